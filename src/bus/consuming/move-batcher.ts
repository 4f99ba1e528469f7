import type { Logger } from 'pino';
import { NotAssignedError } from '../../transport/errors.ts';
import type { Consumer, PartitionWrite } from '../../transport/transport.ts';
import { abortableSleep } from '../abortable-sleep.ts';
import type { PartitionProgress } from '../partition-progress.ts';
import { partitionId } from './partition-id.ts';

/**
 * Group commit of a router's moves (a record handed on to a retry or dead-letter topic, its offset committed
 * in the same atomic step). Every move ready when a step starts goes in that step's one `appendAndCommit` —
 * several of one partition too: a move is ready once every earlier record of its partition is done or is a
 * move ahead of it in the same step. Steps run one at a time, after the commits before them, so a
 * partition's moves are written and committed in its order; a step that fails is tried again whole.
 */
export interface MoveBatcher {
  /** Queues a move; resolves true once moved, false when the partition is no longer this member's or on shutdown. */
  add(tracker: PartitionProgress, offset: bigint, writes: readonly PartitionWrite[]): Promise<boolean>;
}

/** What a move batcher needs. */
export interface MoveBatcherOptions {
  /** The group member once it exists. */
  consumer: () => Consumer | undefined;
  /** Runs a step after the commits queued before it (the commit loop's chain). */
  schedule: (step: () => Promise<void>) => void;
  /** Called when a partition was lost under a move: the commit loop stops tracking it. */
  lost: (id: string) => void;
  logger: Logger;
  /** Aborted on shutdown: queued moves end unmoved, a failing step stops being retried. */
  signal: AbortSignal;
}

interface QueuedMove {
  offset: bigint;
  writes: readonly PartitionWrite[];
  resolve: (moved: boolean) => void;
}

/** The moves queued for one source partition, in offset order. */
interface PartitionMoves {
  tracker: PartitionProgress;
  queue: QueuedMove[];
  /** The head offset a wake-up is registered for (one at a time). */
  watching?: bigint;
}

/** The ready moves of one partition in a step. */
interface StepPart {
  id: string;
  moves: PartitionMoves;
  ready: QueuedMove[];
}

/** The longest run of queued moves whose earlier records are all done or queued moves ahead of them. */
function readyPrefix({ tracker, queue }: PartitionMoves): QueuedMove[] {
  let ready = 0;
  for (const offset of tracker.inFlightOffsets()) {
    if (ready < queue.length && queue[ready]!.offset === offset) ready++;
    else break;
  }
  return queue.slice(0, ready);
}

/** Milliseconds before a failed step is tried again: 100 ms doubling to 5 s. */
const backoffMs = (failures: number) => Math.min(5_000, 100 * 2 ** Math.max(0, failures - 1));

/** Creates the move batcher of a router's commit loop. */
export function createMoveBatcher(options: MoveBatcherOptions): MoveBatcher {
  const { logger, signal } = options;
  const partitions = new Map<string, PartitionMoves>();
  let requested = false;
  let failures = 0;

  const end = (id: string) => {
    const moves = partitions.get(id);
    partitions.delete(id);
    for (const move of moves?.queue ?? []) move.resolve(false);
  };

  const request = () => {
    if (requested) return;
    requested = true;
    // One turn of the event loop first: moves decided together (and records finishing now) share the step.
    setImmediate(() => options.schedule(() => step().catch(stepFailed)));
  };

  const stepFailed = (error: unknown) => logger.error({ err: error }, 'router move step failed');

  /** Wakes a step when the partition's head move has no unfinished record before it. */
  const watch = (id: string, moves: PartitionMoves) => {
    const head = moves.queue[0];
    if (head === undefined || moves.watching === head.offset) return;
    moves.watching = head.offset;
    void moves.tracker.settledBefore(head.offset).then(() => {
      if (partitions.get(id) === moves && moves.watching === head.offset) moves.watching = undefined;
      request();
    });
  };

  const collect = (): StepPart[] => {
    const parts: StepPart[] = [];
    for (const [id, moves] of partitions) {
      if (moves.tracker.revoked) {
        end(id);
        continue;
      }
      const ready = readyPrefix(moves);
      if (ready.length > 0) parts.push({ id, moves, ready });
      else watch(id, moves);
    }
    return parts;
  };

  const moved = (parts: readonly StepPart[]) => {
    for (const { id, moves, ready } of parts) {
      moves.queue.splice(0, ready.length);
      moves.tracker.committedUpTo(ready.at(-1)!.offset + 1n);
      for (const move of ready) {
        moves.tracker.finished(move.offset);
        move.resolve(true);
      }
      if (moves.queue.length === 0) partitions.delete(id);
    }
  };

  const appendAndCommit = async (member: Consumer, parts: readonly StepPart[]) => {
    const writes = parts.flatMap(({ ready }) => ready.flatMap((move) => move.writes));
    const offsets = parts.map(({ moves, ready }) => ({
      topic: moves.tracker.topic,
      partition: moves.tracker.partition,
      offset: ready.at(-1)!.offset + 1n,
    }));
    await member.appendAndCommit(writes, offsets);
    moved(parts);
  };

  /** Refused as a whole (a partition was lost), each partition goes alone: only a lost one's moves end. */
  const onePartitionAtATime = async (member: Consumer, parts: readonly StepPart[]) => {
    for (const part of parts) {
      try {
        await appendAndCommit(member, [part]);
      } catch (error) {
        if (!(error instanceof NotAssignedError)) throw error;
        // A rebalance this member missed: the records in flight here end; a later owner reads them anew.
        end(part.id);
        options.lost(part.id);
      }
    }
  };

  const step = async () => {
    requested = false;
    const member = options.consumer();
    if (signal.aborted || member === undefined) {
      for (const id of [...partitions.keys()]) end(id);
      return;
    }
    const parts = collect();
    if (parts.length === 0) return;
    try {
      try {
        await appendAndCommit(member, parts);
      } catch (error) {
        if (!(error instanceof NotAssignedError)) throw error;
        await onePartitionAtATime(member, parts);
      }
      failures = 0;
    } catch (error) {
      failures++;
      logger.error(
        {
          err: error,
          partitions: parts.length,
          moves: parts.reduce((n, p) => n + p.ready.length, 0),
          failures,
        },
        'cannot move records to a retry or dead-letter topic; retrying',
      );
      await abortableSleep(backoffMs(failures), signal);
    }
    if (partitions.size > 0) request();
  };

  signal.addEventListener('abort', request, { once: true });

  return {
    add(tracker, offset, writes) {
      if (signal.aborted) return Promise.resolve(false);
      const id = partitionId(tracker.topic, tracker.partition);
      let moves = partitions.get(id);
      if (moves === undefined || moves.tracker !== tracker) {
        if (moves !== undefined) end(id);
        moves = { tracker, queue: [] };
        partitions.set(id, moves);
      }
      const queue = moves.queue;
      return new Promise<boolean>((resolve) => {
        // Records of a partition fail in any order (keys run concurrently); its moves go in offset order.
        let at = queue.length;
        while (at > 0 && queue[at - 1]!.offset > offset) at--;
        queue.splice(at, 0, { offset, writes, resolve });
        request();
      });
    },
  };
}
