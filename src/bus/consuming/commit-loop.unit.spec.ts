import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { fakeConsumer } from '../test-support/fake-consumer.ts';
import { createCommitLoop } from './commit-loop.ts';

const logger = pino({ level: 'silent' });

describe('commit loop', () => {
  it('commits only past a contiguous run of handled offsets, per partition', async () => {
    const consumer = fakeConsumer();
    const commits = createCommitLoop({ consumer: () => consumer, intervalMs: 60_000, logger });
    const p0 = commits.progressOf('t', 0);
    const p1 = commits.progressOf('t', 1);
    expect(commits.progressOf('t', 0)).toBe(p0);
    for (const offset of [5n, 6n, 7n]) p0.started(offset);
    p1.started(0n);
    commits.handled(p0, 6n);
    commits.handled(p1, 0n);
    await commits.commit();
    expect(consumer.commits).toEqual([[{ topic: 't', partition: 1, offset: 1n }]]);
    commits.handled(p0, 5n);
    await commits.commit();
    expect(consumer.commits[1]).toEqual([{ topic: 't', partition: 0, offset: 7n }]);
    await commits.commit();
    expect(consumer.commits).toHaveLength(2);
    commits.stop();
  });

  it('commits on its own within the interval after an offset was handled', async () => {
    const consumer = fakeConsumer();
    const commits = createCommitLoop({ consumer: () => consumer, intervalMs: 5, logger });
    const progress = commits.progressOf('t', 0);
    progress.started(0n);
    commits.handled(progress, 0n);
    expect(consumer.commits).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(consumer.commits).toEqual([[{ topic: 't', partition: 0, offset: 1n }]]);
  });

  it('never commits a forgotten (revoked) partition, and tells which partitions are busy', async () => {
    const consumer = fakeConsumer();
    const commits = createCommitLoop({ consumer: () => consumer, intervalMs: 60_000, logger });
    const progress = commits.progressOf('t', 3);
    progress.started(0n);
    expect(commits.busy((p) => p.partition === 3)).toBe(true);
    expect(commits.busy((p) => p.partition === 4)).toBe(false);
    commits.forget(['t\u00003']);
    expect(progress.revoked).toBe(true);
    commits.handled(progress, 0n);
    commits.stop();
    await commits.commit();
    expect(consumer.commits).toEqual([]);
  });

  it('survives a refused commit (a rebalance moved the partition)', async () => {
    const consumer = fakeConsumer();
    consumer.refuseCommits = new Error('not the owner');
    const commits = createCommitLoop({ consumer: () => consumer, intervalMs: 60_000, logger });
    const progress = commits.progressOf('t', 0);
    progress.started(0n);
    commits.handled(progress, 0n);
    commits.stop();
    await expect(commits.commit()).resolves.toBeUndefined();
    consumer.refuseCommits = undefined;
    progress.started(1n);
    commits.handled(progress, 1n);
    commits.stop();
    await commits.commit();
    expect(consumer.commits).toEqual([[{ topic: 't', partition: 0, offset: 2n }]]);
  });
});
