/**
 * Tracks which offsets of one partition were handled, so the router commits only past a
 * contiguous run of finished offsets even though keys finish out of order.
 */
export interface PartitionProgress {
  readonly topic: string;
  readonly partition: number;
  /** Set once the partition was taken from this member; later completions must not commit. */
  revoked: boolean;
  /** Records an offset handed out for handling (offsets arrive in increasing order). */
  started(offset: bigint): void;
  /** Records an offset as handled. */
  finished(offset: bigint): void;
  /** Offsets started but not finished. */
  inFlight(): number;
  /** The offsets started and not finished, lowest first. */
  inFlightOffsets(): Iterable<bigint>;
  /** Next offset to commit when it moved since the last call, else undefined. */
  takeCommit(): bigint | undefined;
  /** Resolves once every offset started before `offset` finished (or the partition was revoked). */
  settledBefore(offset: bigint): Promise<void>;
  /** Records that `offset` (the next to read) was committed elsewhere, e.g. with a moved record. */
  committedUpTo(offset: bigint): void;
  /** Marks the partition taken from this member and wakes what waits in `settledBefore`. */
  revoke(): void;
}

/** Creates the progress tracker of one partition. */
export function createPartitionProgress(topic: string, partition: number): PartitionProgress {
  const pending: bigint[] = [];
  let head = 0;
  const done = new Set<bigint>();
  let next: bigint | undefined;
  let lastCommitted: bigint | undefined;
  let settleWaiters: Array<{ offset: bigint; resolve: () => void }> = [];

  /** The first offset still in flight, or undefined when none is. */
  const oldestInFlight = (): bigint | undefined => (head < pending.length ? pending[head] : undefined);
  const wakeSettled = () => {
    if (settleWaiters.length === 0) return;
    const oldest = oldestInFlight();
    const still: typeof settleWaiters = [];
    for (const waiter of settleWaiters) {
      if (oldest === undefined || oldest >= waiter.offset) waiter.resolve();
      else still.push(waiter);
    }
    settleWaiters = still;
  };

  const progress: PartitionProgress = {
    topic,
    partition,
    revoked: false,
    started(offset) {
      pending.push(offset);
    },
    finished(offset) {
      if (next !== undefined && offset < next) return;
      done.add(offset);
      while (head < pending.length && done.has(pending[head]!)) {
        const offsetDone = pending[head]!;
        done.delete(offsetDone);
        next = offsetDone + 1n;
        head++;
      }
      // Compact the queue once its consumed prefix dominates, keeping pushes O(1) amortised.
      if (head > 1024 && head * 2 > pending.length) {
        pending.splice(0, head);
        head = 0;
      }
      wakeSettled();
    },
    inFlight: () => pending.length - head,
    *inFlightOffsets() {
      for (let i = head; i < pending.length; i++) if (!done.has(pending[i]!)) yield pending[i]!;
    },
    takeCommit() {
      if (next === undefined || next === lastCommitted) return undefined;
      if (lastCommitted !== undefined && next < lastCommitted) return undefined;
      lastCommitted = next;
      return next;
    },
    settledBefore(offset) {
      const oldest = oldestInFlight();
      if (progress.revoked || oldest === undefined || oldest >= offset) return Promise.resolve();
      return new Promise<void>((resolve) => settleWaiters.push({ offset, resolve }));
    },
    revoke() {
      progress.revoked = true;
      for (const waiter of settleWaiters.splice(0)) waiter.resolve();
    },
    committedUpTo(offset) {
      if (lastCommitted === undefined || offset > lastCommitted) lastCommitted = offset;
    },
  };
  return progress;
}
