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
  /** Next offset to commit when it moved since the last call, else undefined. */
  takeCommit(): bigint | undefined;
}

/** Creates the progress tracker of one partition. */
export function createPartitionProgress(topic: string, partition: number): PartitionProgress {
  const pending: bigint[] = [];
  let head = 0;
  const done = new Set<bigint>();
  let next: bigint | undefined;
  let lastCommitted: bigint | undefined;

  return {
    topic,
    partition,
    revoked: false,
    started(offset) {
      pending.push(offset);
    },
    finished(offset) {
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
    },
    inFlight: () => pending.length - head,
    takeCommit() {
      if (next === undefined || next === lastCommitted) return undefined;
      lastCommitted = next;
      return next;
    },
  };
}
