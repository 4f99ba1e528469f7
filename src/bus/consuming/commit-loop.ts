import type { Logger } from 'pino';
import { NotAssignedError } from '../../transport/errors.ts';
import type { Consumer, OffsetCommit, PartitionWrite } from '../../transport/transport.ts';
import { abortableSleep } from '../abortable-sleep.ts';
import { createPartitionProgress, type PartitionProgress } from '../partition-progress.ts';
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
   * Moves a record on: once every earlier record of its partition is done, appends `writes` and commits past
   * the record in one atomic step, after the commits before it. Resolves true once moved; false when the
   * partition is no longer this member's (nothing was written; its next owner gets the record again).
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

  const moves = createMoveBatcher(options.consumer, (id) => loop.forget([id]));

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
    async move(tracker, offset, writes) {
      for (let attempt = 0; !options.signal.aborted; attempt++) {
        await untilSettledOrAborted(tracker, offset, options.signal);
        if (options.signal.aborted) break;
        // Moves ready together share one atomic step (one fsync, one transaction), after the commits before.
        const moved = moves.add(tracker, offset, writes);
        committing = committing.then(moves.flush);
        try {
          return await moved;
        } catch (error) {
          options.logger.error(
            { err: error, topic: tracker.topic, partition: tracker.partition, attempt },
            'cannot move a record to a retry or dead-letter topic; retrying',
          );
          await abortableSleep(Math.min(5_000, 100 * 2 ** attempt), options.signal);
        }
      }
      return false;
    },
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

/** Waits for every record before `offset` to be done, or for shutdown; leaves no listener behind. */
function untilSettledOrAborted(
  tracker: PartitionProgress,
  offset: bigint,
  signal: AbortSignal,
): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    void tracker.settledBefore(offset).then(done);
  });
}

interface QueuedMove {
  tracker: PartitionProgress;
  offset: bigint;
  writes: readonly PartitionWrite[];
  resolve: (moved: boolean) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit of moves: the moves queued when the commit loop gets to them go in one `appendAndCommit`
 * (each commits past its record; a partition's moves never queue together, as each waits for the one
 * before). Refused as a whole (a partition was lost), they are tried one by one, so only the lost
 * partition's moves end, and that partition is forgotten.
 */
function createMoveBatcher(consumer: () => Consumer | undefined, forget: (id: string) => void) {
  let queue: QueuedMove[] = [];

  const attempt = async (batch: readonly QueuedMove[]) => {
    const member = consumer();
    const live = batch.filter((m) => !m.tracker.revoked);
    for (const m of batch) if (m.tracker.revoked || !member) m.resolve(false);
    if (!member || live.length === 0) return;
    const offsets = live.map(({ tracker, offset }) => ({
      topic: tracker.topic,
      partition: tracker.partition,
      offset: offset + 1n,
    }));
    await member.appendAndCommit(
      live.flatMap((m) => m.writes),
      offsets,
    );
    for (const m of live) {
      m.tracker.committedUpTo(m.offset + 1n);
      m.resolve(true);
    }
  };

  const one = async (m: QueuedMove) => {
    try {
      await attempt([m]);
    } catch (error) {
      if (!(error instanceof NotAssignedError)) return m.reject(error);
      // The partition was lost (a rebalance this member missed): its records in flight here, and the
      // moves waiting behind this one, end now; a later owner (or this member again) reads them anew.
      forget(partitionId(m.tracker.topic, m.tracker.partition));
      m.resolve(false);
    }
  };

  return {
    add: (tracker: PartitionProgress, offset: bigint, writes: readonly PartitionWrite[]) =>
      new Promise<boolean>((resolve, reject) => {
        queue.push({ tracker, offset, writes, resolve, reject });
      }),
    flush: async (): Promise<void> => {
      const batch = queue;
      queue = [];
      if (batch.length === 0) return;
      if (batch.length === 1) return one(batch[0]!);
      try {
        await attempt(batch);
      } catch (error) {
        if (!(error instanceof NotAssignedError)) {
          for (const m of batch) m.reject(error);
          return;
        }
        for (const m of batch) await one(m);
      }
    },
  };
}
