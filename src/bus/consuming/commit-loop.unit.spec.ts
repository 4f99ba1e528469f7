import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { NotAssignedError } from '../../transport/errors.ts';
import { fakeConsumer } from '../test-support/fake-consumer.ts';
import { createCommitLoop } from './commit-loop.ts';

const logger = pino({ level: 'silent' });
const signal = new AbortController().signal;

describe('commit loop', () => {
  it('commits only past a contiguous run of handled offsets, per partition', async () => {
    const consumer = fakeConsumer();
    const commits = createCommitLoop({ consumer: () => consumer, intervalMs: 60_000, logger, signal });
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
    const commits = createCommitLoop({ consumer: () => consumer, intervalMs: 5, logger, signal });
    const progress = commits.progressOf('t', 0);
    progress.started(0n);
    commits.handled(progress, 0n);
    expect(consumer.commits).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(consumer.commits).toEqual([[{ topic: 't', partition: 0, offset: 1n }]]);
  });

  it('never commits a forgotten (revoked) partition, and tells which partitions are busy', async () => {
    const consumer = fakeConsumer();
    const commits = createCommitLoop({ consumer: () => consumer, intervalMs: 60_000, logger, signal });
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
    const commits = createCommitLoop({ consumer: () => consumer, intervalMs: 60_000, logger, signal });
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

  it('moves a record once every earlier record of its partition is done, committing past it in the same step', async () => {
    const consumer = fakeConsumer();
    const moves: bigint[] = [];
    consumer.appendAndCommit = async (_writes, offsets) => {
      moves.push(offsets[0]!.offset);
    };
    const commits = createCommitLoop({ consumer: () => consumer, intervalMs: 60_000, logger, signal });
    const progress = commits.progressOf('t', 0);
    for (const offset of [0n, 1n, 2n]) progress.started(offset);
    const moved = commits.move(progress, 2n, [{ topic: 'r', partition: 0, records: [] }]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(moves).toEqual([]);
    commits.handled(progress, 1n);
    commits.handled(progress, 0n);
    expect(await moved).toBe(true);
    expect(moves).toEqual([3n]);
    commits.handled(progress, 2n);
    await commits.commit();
    // The move committed past offset 2 already: nothing lower is committed after it.
    expect(consumer.commits).toEqual([]);
  });

  it('retries a failed move until it works, and gives up when the partition is gone or on shutdown', async () => {
    const consumer = fakeConsumer();
    let failures = 1;
    consumer.appendAndCommit = async () => {
      if (failures-- > 0) throw new Error('broker away');
    };
    const commits = createCommitLoop({ consumer: () => consumer, intervalMs: 60_000, logger, signal });
    const progress = commits.progressOf('t', 0);
    progress.started(0n);
    expect(await commits.move(progress, 0n, [])).toBe(true);
    commits.handled(progress, 0n);
    consumer.appendAndCommit = async (_writes, offsets) => {
      throw new NotAssignedError('g', 'm', offsets);
    };
    progress.started(1n);
    expect(await commits.move(progress, 1n, [])).toBe(false);
    const stopped = new AbortController();
    stopped.abort();
    const closing = createCommitLoop({
      consumer: () => consumer,
      intervalMs: 1,
      logger,
      signal: stopped.signal,
    });
    expect(await closing.move(closing.progressOf('t', 1), 0n, [])).toBe(false);
  });

  it('moves ready together share one atomic step; refused as a whole, they are tried one by one', async () => {
    const consumer = fakeConsumer();
    const calls: bigint[][] = [];
    consumer.appendAndCommit = async (_writes, offsets) => {
      // Partition 9 was lost: any step carrying it is refused.
      if (offsets.some((o) => o.partition === 9)) throw new NotAssignedError('g', 'm', offsets);
      calls.push(offsets.map((o) => o.offset));
    };
    const commits = createCommitLoop({ consumer: () => consumer, intervalMs: 60_000, logger, signal });
    const [p0, p1] = [commits.progressOf('t', 0), commits.progressOf('t', 1)];
    p0.started(4n);
    p1.started(7n);
    expect(await Promise.all([commits.move(p0, 4n, []), commits.move(p1, 7n, [])])).toEqual([true, true]);
    expect(calls).toEqual([[5n, 8n]]);
    const lost = commits.progressOf('t', 9);
    const p2 = commits.progressOf('t', 2);
    lost.started(0n);
    p2.started(0n);
    expect(await Promise.all([commits.move(lost, 0n, []), commits.move(p2, 0n, [])])).toEqual([false, true]);
    expect(lost.revoked).toBe(true);
  });
});

describe('commit loop: moves of one partition', () => {
  it('go together when the records between them are done, in offset order, committed past the last', async () => {
    const consumer = fakeConsumer();
    const calls: { writes: string[]; offsets: bigint[] }[] = [];
    consumer.appendAndCommit = async (writes, offsets) => {
      calls.push({ writes: writes.map((w) => w.topic), offsets: offsets.map((o) => o.offset) });
    };
    const commits = createCommitLoop({ consumer: () => consumer, intervalMs: 60_000, logger, signal });
    const progress = commits.progressOf('t', 0);
    for (const offset of [0n, 1n, 2n, 3n]) progress.started(offset);
    // Offset 2 fails before offset 0 (their keys run concurrently); offset 1 is handled; 3 is still running.
    const second = commits.move(progress, 2n, [{ topic: 'after', partition: 0, records: [] }]);
    const first = commits.move(progress, 0n, [{ topic: 'before', partition: 0, records: [] }]);
    commits.handled(progress, 1n);
    expect(await Promise.all([first, second])).toEqual([true, true]);
    expect(calls).toEqual([{ writes: ['before', 'after'], offsets: [3n] }]);
    expect([...progress.inFlightOffsets()]).toEqual([3n]);
  });

  it('wait for an earlier move still on its way, and a failed step is tried again whole', async () => {
    const consumer = fakeConsumer();
    const calls: bigint[][] = [];
    let failures = 1;
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    consumer.appendAndCommit = async (_writes, offsets) => {
      calls.push(offsets.map((o) => o.offset));
      if (calls.length === 1) await held;
      if (calls.length === 1 && failures-- > 0) throw new Error('broker away');
    };
    const commits = createCommitLoop({ consumer: () => consumer, intervalMs: 60_000, logger, signal });
    const progress = commits.progressOf('t', 0);
    for (const offset of [0n, 1n]) progress.started(offset);
    const first = commits.move(progress, 0n, []);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const second = commits.move(progress, 1n, []);
    await new Promise((resolve) => setTimeout(resolve, 10));
    // The first step (offset 0 alone) is still on its way: offset 1 waits instead of overtaking it.
    expect(calls).toEqual([[1n]]);
    release();
    expect(await Promise.all([first, second])).toEqual([true, true]);
    // The failed step went again with what had queued behind it.
    expect(calls).toEqual([[1n], [2n]]);
  });
});
