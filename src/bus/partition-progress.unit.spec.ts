import { describe, expect, it } from 'vitest';
import { createPartitionProgress } from './partition-progress.ts';

describe('partition progress', () => {
  it('commits only past a contiguous run of finished offsets', () => {
    const progress = createPartitionProgress('t', 0);
    for (const offset of [10n, 11n, 12n, 13n]) progress.started(offset);
    progress.finished(12n);
    expect(progress.takeCommit()).toBeUndefined();
    progress.finished(10n);
    expect(progress.takeCommit()).toBe(11n);
    expect(progress.takeCommit()).toBeUndefined();
    progress.finished(11n);
    expect(progress.takeCommit()).toBe(13n);
    expect(progress.inFlight()).toBe(1);
    progress.finished(13n);
    expect(progress.takeCommit()).toBe(14n);
    expect(progress.inFlight()).toBe(0);
  });

  it('keeps working across many offsets (queue compaction)', () => {
    const progress = createPartitionProgress('t', 0);
    for (let i = 0n; i < 5000n; i++) progress.started(i);
    for (let i = 4999n; i >= 0n; i--) progress.finished(i);
    expect(progress.takeCommit()).toBe(5000n);
    progress.started(5000n);
    progress.finished(5000n);
    expect(progress.takeCommit()).toBe(5001n);
  });
});
