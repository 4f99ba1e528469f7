import type { Logger } from 'pino';
import type { Consumer, OffsetCommit, PartitionWrite } from '../../transport/transport.ts';
import { createPartitionProgress, type PartitionProgress } from '../partition-progress.ts';
import { createMoveBatcher } from './move-batcher.ts';
import { partitionId } from './partition-id.ts';

/** Which offsets of each partition were handled, and their commits. */
export interface CommitLoop {
  /** The progress of a partition, created on its first record. */
  progressOf(topic: string, partition: number): PartitionProgress;
  /** Records an offset as handled; it is committed within the commit interval. */
  handled(progress: PartitionProgress, offset: bigint): void;
  /** Commits what every partition handled since the last commit, after the commits before it. */
  commit(): Promise<void>;
  /**
   * Moves a record on: once every earlier record of its partition is done (or moves with it), appends
   * `writes` and commits past the record in one atomic step, after the commits before it; the record counts
   * as handled. Resolves true once moved; false when the partition is no longer this member's or on shutdown
   * (nothing was written; its next owner gets the record again).
   */
  move(progress: PartitionProgress, offset: bigint, writes: readonly PartitionWrite[]): Promise<boolean>;
  /** Whether a partition matching `which` has records started and not finished. */
  busy(which: (progress: PartitionProgress) => boolean): boolean;
  /** Stops tracking partitions taken from this member: completions there never commit. */
  forget(ids: Iterable<string>): void;
  /** Cancels a scheduled commit (`commit()` still commits). */
  stop(): void;
}

/** What a commit loop needs: the member that commits and how long handled offsets may wait. */
export interface CommitLoopOptions {
  /** The group member once it exists. */
  consumer: () => Consumer | undefined;
  /** Milliseconds between commits of handled records. */
  intervalMs: number;
  logger: Logger;
  /** Aborted on shutdown: a failing move stops being retried. */
  signal: AbortSignal;
}

/**
 * Creates the commit loop of a router: an offset is committed only once every earlier record of its
 * partition was handled (or handed on), batched every `intervalMs`; commits run one after another.
 */
export function createCommitLoop(options: CommitLoopOptions): CommitLoop {
  const progress = new Map<string, PartitionProgress>();
  let timer: NodeJS.Timeout | undefined;
  let committing: Promise<void> = Promise.resolve();

  const offsetsToCommit = (): OffsetCommit[] => {
    const offsets: OffsetCommit[] = [];
    for (const tracker of progress.values()) {
      if (tracker.revoked) continue;
      const offset = tracker.takeCommit();
      if (offset !== undefined) offsets.push({ topic: tracker.topic, partition: tracker.partition, offset });
    }
    return offsets;
  };

  const commitNow = async () => {
    const consumer = options.consumer();
    if (!consumer) return;
    const offsets = offsetsToCommit();
    if (offsets.length === 0) return;
    try {
      await consumer.commit(offsets);
    } catch (error) {
      // A refused commit means the partition moved on a rebalance; its new owner redelivers.
      options.logger.warn(
        { err: error, offsets: offsets.length },
        'commit refused; records will be redelivered',
      );
    }
  };

  const moves = createMoveBatcher({
    consumer: options.consumer,
    schedule: (step) => {
      committing = committing.then(step);
    },
    lost: (id) => loop.forget([id]),
    logger: options.logger,
    signal: options.signal,
  });

  const loop: CommitLoop = {
    progressOf(topic, partition) {
      const id = partitionId(topic, partition);
      let tracker = progress.get(id);
      if (!tracker) {
        tracker = createPartitionProgress(topic, partition);
        progress.set(id, tracker);
      }
      return tracker;
    },
    handled(tracker, offset) {
      tracker.finished(offset);
      timer ??= setTimeout(() => {
        timer = undefined;
        void loop.commit();
      }, options.intervalMs);
    },
    commit() {
      committing = committing.then(commitNow);
      return committing;
    },
    move: (tracker, offset, writes) => moves.add(tracker, offset, writes),
    busy: (which) => [...progress.values()].some((tracker) => which(tracker) && tracker.inFlight() > 0),
    forget(ids) {
      for (const id of ids) {
        progress.get(id)?.revoke();
        progress.delete(id);
      }
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
  return loop;
}
