import type { ProduceResult } from '@platformatic/kafka';
import type { Logger } from 'pino';
import { MAX_TIMESTAMP_DELTA, type QueuedWrite } from './produce-queue.ts';
import type { ProducedMessage } from './record-codec.ts';

/** Milliseconds to wait before running a transaction again after `rerun` earlier runs: 100, doubling up to 1 000. */
export function rerunDelayMs(rerun: number): number {
  return Math.min(1_000, 100 * 2 ** rerun);
}

/**
 * Runs one Kafka transaction: begins it, sends each chunk (one produce request each) in order, commits,
 * and resolves with each chunk's result; on any failure it aborts and rejects, leaving nothing visible.
 */
export type RunTransaction = (
  chunks: ProducedMessage[][],
  offsets?: TransactionOffsets,
) => Promise<ProduceResult[]>;

/** A group member's offsets a transaction commits with its records (`sendOffsetsToTransaction`), fenced on its generation. */
export interface TransactionOffsets {
  group: string;
  generation: number;
  memberId: string;
  offsets: readonly { topic: string; partition: number; offset: bigint }[];
}

/** How far one attempt at a transaction got: `committing` turns true as EndTxn is sent. */
export interface TransactionProgress {
  committing: boolean;
}

/**
 * One attempt at a Kafka transaction, like RunTransaction, reporting in `progress` whether it reached its
 * commit: a failure before that was aborted and wrote nothing, one after it may have committed.
 */
export type AttemptTransaction = (
  chunks: ProducedMessage[][],
  progress: TransactionProgress,
  offsets?: TransactionOffsets,
) => Promise<ProduceResult[]>;

/** Settings of `runAgainBeforeCommit`. */
export interface RunAgainOptions {
  attempt: AttemptTransaction;
  /** Milliseconds from the first attempt after which a failed one is not made again. */
  deliveryTimeoutMs: number;
  /** Whether an attempt that failed (before its commit) with this error may succeed when made again. */
  isCurable: (error: unknown) => boolean;
  /** Called before the next attempt: the partitions' leaders are looked up again. */
  refresh: () => void;
  logger: Logger;
  /** Wraps a failed attempt's error for the log. */
  mapError: (error: unknown) => Error;
}

/**
 * Runs a transaction until it commits: a transaction that failed before its commit was aborted and wrote
 * nothing, so it may run again. As with plain sends, one caught by a leader change succeeds only as a new
 * one, with fresh leaders, and one that failed on the producer's state succeeds on a fresh producer. A
 * failed commit is not run again (it may have committed), nor one whose error says running again cannot
 * help, nor one past the delivery timeout; pauses between attempts grow as the produce queue's do.
 */
export function runAgainBeforeCommit(options: RunAgainOptions): RunTransaction {
  const { attempt, deliveryTimeoutMs, isCurable, refresh, logger, mapError } = options;
  return async (chunks, offsets) => {
    const started = Date.now();
    for (let resend = 0; ; resend++) {
      const progress: TransactionProgress = { committing: false };
      try {
        return await attempt(chunks, progress, offsets);
      } catch (error) {
        const pause = rerunDelayMs(resend);
        const expired = Date.now() + pause - started >= deliveryTimeoutMs;
        if (progress.committing || expired || !isCurable(error)) throw error;
        logger.warn(
          { err: mapError(error), inMs: pause, resend: resend + 1 },
          'kafka transport: transaction failed before its commit and was aborted; running it again',
        );
        refresh();
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  };
}

/** Settings of the transaction queue. */
export interface TransactionQueueOptions {
  run: RunTransaction;
  logger: Logger;
  /** Most messages in one produce request, and in one transaction unless a single append is larger. */
  maxBatchRecords: number;
  /** Most bytes (see `recordSize`) in one produce request, and in one transaction unless a single append is larger. */
  maxBatchBytes: number;
  /** Wraps a failed transaction's error for the appends it carried. */
  mapError: (error: unknown) => Error;
}

/**
 * Group commit of atomic appends: one Kafka transaction at a time carries every whole append queued while
 * the previous one ran, so concurrent callers share its AddPartitionsToTxn and EndTxn round trips. An append
 * is never split across transactions; a large one spans several produce requests of the same transaction.
 */
export interface TransactionQueue {
  /**
   * Queues one atomic append; resolves with one offset array per write once its transaction committed. An
   * append carrying a member's `offsets` runs in a transaction of its own (a fenced commit fails only it).
   */
  enqueue(writes: readonly QueuedWrite[], offsets?: TransactionOffsets): Promise<bigint[][]>;
  /** Resolves once everything queued so far was committed (or failed). */
  drain(): Promise<void>;
  /** Rejects everything queued and not yet sent with `error`. */
  abandon(error: Error): void;
}

interface PendingAppend {
  writes: readonly QueuedWrite[];
  offsets?: TransactionOffsets;
  records: number;
  bytes: number;
  resolve: (offsets: bigint[][]) => void;
  reject: (error: unknown) => void;
}

/** Where one message of a transaction sits: its append, write and index, and its chunk. */
interface Placement {
  append: number;
  write: number;
  index: number;
  chunk: number;
  message: ProducedMessage;
}

/**
 * Cuts a transaction's messages into produce requests: at most `maxRecords` messages and `maxBytes` bytes
 * each (a single larger message goes alone), and a new request where a record's timestamp is too far from
 * its partition's first in the request (see MAX_TIMESTAMP_DELTA).
 */
export function chunkMessages(
  appends: readonly Pick<PendingAppend, 'writes'>[],
  maxRecords: number,
  maxBytes: number,
): { chunks: ProducedMessage[][]; placements: Placement[] } {
  const chunks: ProducedMessage[][] = [];
  const placements: Placement[] = [];
  let current: ProducedMessage[] = [];
  let bytes = 0;
  let firstTimestamps = new Map<string, bigint>();
  const cut = () => {
    if (current.length > 0) chunks.push(current);
    current = [];
    bytes = 0;
    firstTimestamps = new Map();
  };
  appends.forEach((append, a) => {
    append.writes.forEach((write, w) => {
      write.messages.forEach((message, index) => {
        const size = write.sizes[index] ?? 0;
        const partition = `${message.topic}\u0000${message.partition}`;
        const timestamp = message.timestamp ?? 0n;
        const first = firstTimestamps.get(partition);
        const tooFar =
          first !== undefined &&
          (timestamp - first >= MAX_TIMESTAMP_DELTA || first - timestamp >= MAX_TIMESTAMP_DELTA);
        if (current.length > 0 && (current.length >= maxRecords || bytes + size > maxBytes || tooFar)) cut();
        if (!firstTimestamps.has(partition)) firstTimestamps.set(partition, timestamp);
        current.push(message);
        bytes += size;
        placements.push({ append: a, write: w, index, chunk: chunks.length, message });
      });
    });
  });
  cut();
  return { chunks, placements };
}

/**
 * Each message's offset from the brokers' answers: a produce request writes one batch per partition at the
 * returned base offset, so the n-th message of a partition in a chunk sits at base + n.
 */
export function assignOffsets(
  placements: readonly Placement[],
  results: readonly ProduceResult[],
  appends: readonly Pick<PendingAppend, 'writes'>[],
): bigint[][][] {
  const out = appends.map((append) => append.writes.map((write) => new Array<bigint>(write.messages.length)));
  const next = results.map((result) => {
    const base = new Map<string, bigint>();
    for (const produced of result.offsets ?? [])
      base.set(`${produced.topic}\u0000${produced.partition}`, produced.offset);
    return base;
  });
  for (const placement of placements) {
    const key = `${placement.message.topic}\u0000${placement.message.partition}`;
    const offsets = next[placement.chunk];
    const offset = offsets?.get(key);
    if (offsets === undefined || offset === undefined) {
      throw new Error(
        `the brokers did not acknowledge ${placement.message.topic}[${placement.message.partition}]`,
      );
    }
    offsets.set(key, offset + 1n);
    out[placement.append]![placement.write]![placement.index] = offset;
  }
  return out;
}

/** Creates the transaction queue of one transactional producer. */
export function createTransactionQueue(options: TransactionQueueOptions): TransactionQueue {
  const { run, logger, maxBatchRecords, maxBatchBytes, mapError } = options;
  let queue: PendingAppend[] = [];
  let inFlight: Promise<void> | undefined;
  let timer: NodeJS.Immediate | undefined;
  let drained: Array<() => void> = [];

  // Whole appends, oldest first, while the transaction stays within one batch's limits (the first always goes).
  const take = (): PendingAppend[] => {
    let records = 0;
    let bytes = 0;
    let count = 0;
    for (const append of queue) {
      const full = records + append.records > maxBatchRecords || bytes + append.bytes > maxBatchBytes;
      if (count > 0 && (full || append.offsets !== undefined || queue[0]!.offsets !== undefined)) break;
      records += append.records;
      bytes += append.bytes;
      count++;
    }
    const taken = queue.slice(0, count);
    queue = queue.slice(count);
    return taken;
  };

  const runNext = (): void => {
    if (timer !== undefined) {
      clearImmediate(timer);
      timer = undefined;
    }
    if (inFlight !== undefined) return;
    const appends = take();
    if (appends.length === 0) {
      const waiting = drained;
      drained = [];
      for (const done of waiting) done();
      return;
    }
    const { chunks, placements } = chunkMessages(appends, maxBatchRecords, maxBatchBytes);
    const started = performance.now();
    inFlight = run(chunks, appends[0]!.offsets)
      .then((results) => {
        const offsets = assignOffsets(placements, results, appends);
        logger.trace(
          { appends: appends.length, records: placements.length, durationMs: performance.now() - started },
          'kafka transport: transaction committed',
        );
        appends.forEach((append, a) => {
          append.resolve(offsets[a]!);
        });
      })
      .catch((error: unknown) => {
        const mapped = mapError(error);
        logger.warn({ err: mapped, appends: appends.length }, 'kafka transport: transaction failed, aborted');
        for (const append of appends) append.reject(mapped);
        // Appends queued behind fail with it, unwritten: a caller retrying in call order is never overtaken.
        const behind = queue;
        queue = [];
        for (const append of behind) append.reject(mapped);
      })
      .finally(() => {
        inFlight = undefined;
        runNext();
      });
  };

  return {
    enqueue: (writes, offsets) =>
      new Promise<bigint[][]>((resolve, reject) => {
        let records = 0;
        let bytes = 0;
        for (const write of writes) {
          records += write.messages.length;
          for (const size of write.sizes) bytes += size;
        }
        if (records === 0) {
          resolve(writes.map(() => []));
          return;
        }
        queue.push({
          writes,
          records,
          bytes,
          resolve,
          reject,
          ...(offsets === undefined ? {} : { offsets }),
        });
        // A transaction in flight takes what queued meanwhile when it ends; an idle queue waits one turn
        // of the event loop, so appends made together share a transaction.
        if (inFlight === undefined) timer ??= setImmediate(runNext);
      }),
    drain: () =>
      new Promise<void>((resolve) => {
        if (inFlight === undefined && queue.length === 0) {
          resolve();
          return;
        }
        drained.push(resolve);
      }),
    abandon: (error) => {
      if (timer !== undefined) {
        clearImmediate(timer);
        timer = undefined;
      }
      const rest = queue;
      queue = [];
      for (const append of rest) append.reject(error);
      const waiting = drained;
      drained = [];
      for (const done of waiting) done();
    },
  };
}
