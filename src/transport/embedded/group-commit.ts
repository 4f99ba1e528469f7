import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import type { EncodedRecord } from './record-codec.ts';
import type { AppendStatements } from './sql/append-statements.ts';

/** Records for one partition, already validated against the topic. */
export interface PartitionBatch {
  topicId: number;
  partition: number;
  records: readonly EncodedRecord[];
}

/** Settings of the append queue. */
export interface GroupCommitOptions {
  db: Database;
  statements: AppendStatements;
  logger: Logger;
  /** Called after each flush that committed, e.g. to wake waiting consumers. */
  onCommit: () => void;
  /** Queued records that trigger a flush at once instead of on the next turn of the event loop; default 2 000. */
  maxQueuedRecords?: number;
  /** Queued bytes that trigger a flush at once; default 8 MiB. */
  maxQueuedBytes?: number;
}

/**
 * Group commit: appends queue up and one flush writes all of them in one transaction (one
 * fsync), so many concurrent single-record publishes cost about as much as one.
 */
export interface GroupCommit {
  /** Queues the batches; resolves with their offsets once the flush that wrote them committed. */
  enqueue(batches: readonly PartitionBatch[]): Promise<bigint[][]>;
  /** Writes everything queued now (a no-op when nothing is). */
  flush(): void;
  /** Rejects everything queued, writing none of it. */
  abandon(error: Error): void;
  /** Writes the batches at once inside the caller's transaction (a savepoint); the caller wakes consumers after its commit. */
  writeWithin(batches: readonly PartitionBatch[]): bigint[][];
}

interface Waiter {
  batches: readonly PartitionBatch[];
  resolve: (offsets: bigint[][]) => void;
  reject: (error: unknown) => void;
}

/** Creates the append queue of one connection. */
export function createGroupCommit(options: GroupCommitOptions): GroupCommit {
  const { db, statements, logger, onCommit } = options;
  const maxQueuedRecords = options.maxQueuedRecords ?? 2_000;
  const maxQueuedBytes = options.maxQueuedBytes ?? 8 * 1024 * 1024;
  let queue: Waiter[] = [];
  let queuedRecords = 0;
  let queuedBytes = 0;
  let scheduled: NodeJS.Immediate | undefined;

  // BEGIN IMMEDIATE takes the write lock before reading log ends, so another process cannot
  // hand out the same offsets between our read and our write.
  const write = db.transaction((waiters: readonly Waiter[]): bigint[][][] => {
    const next = new Map<string, { topicId: number; partition: number; end: bigint; bytes: number }>();
    const results = waiters.map((waiter) =>
      waiter.batches.map((batch) => {
        const id = `${batch.topicId}:${batch.partition}`;
        let cursor = next.get(id);
        if (cursor === undefined) {
          const end = statements.logEnd(batch.topicId, batch.partition);
          if (end === undefined) throw new Error(`partition ${id} has no row: the file is inconsistent`);
          cursor = { topicId: batch.topicId, partition: batch.partition, end, bytes: 0 };
          next.set(id, cursor);
        }
        const offsets: bigint[] = [];
        for (const record of batch.records) {
          const offset = cursor.end;
          statements.insert(batch.topicId, batch.partition, offset, record);
          offsets.push(offset);
          cursor.end = offset + 1n;
          cursor.bytes += record.size;
        }
        return offsets;
      }),
    );
    for (const cursor of next.values()) {
      statements.advance(cursor.topicId, cursor.partition, cursor.end, cursor.bytes);
    }
    return results;
  });

  const flush = (): void => {
    if (scheduled !== undefined) {
      clearImmediate(scheduled);
      scheduled = undefined;
    }
    if (queue.length === 0) return;
    const waiters = queue;
    const records = queuedRecords;
    queue = [];
    queuedRecords = 0;
    queuedBytes = 0;
    const started = performance.now();
    let results: bigint[][][];
    try {
      results = write.immediate(waiters);
    } catch (error) {
      logger.error(
        { err: error, appends: waiters.length, records },
        'embedded transport: append flush failed',
      );
      for (const waiter of waiters) waiter.reject(error);
      return;
    }
    logger.trace(
      { appends: waiters.length, records, durationMs: performance.now() - started },
      'embedded transport: append flush committed',
    );
    waiters.forEach((waiter, index) => {
      waiter.resolve(results[index] ?? []);
    });
    onCommit();
  };

  return {
    enqueue: (batches) =>
      new Promise<bigint[][]>((resolve, reject) => {
        queue.push({ batches, resolve, reject });
        for (const batch of batches) {
          queuedRecords += batch.records.length;
          for (const record of batch.records) queuedBytes += record.size;
        }
        if (queuedRecords >= maxQueuedRecords || queuedBytes >= maxQueuedBytes) flush();
        else scheduled ??= setImmediate(flush);
      }),
    flush,
    writeWithin: (batches) => write([{ batches, resolve: () => {}, reject: () => {} }])[0] ?? [],
    abandon: (error) => {
      if (scheduled !== undefined) clearImmediate(scheduled);
      scheduled = undefined;
      const waiters = queue;
      queue = [];
      queuedRecords = 0;
      queuedBytes = 0;
      for (const waiter of waiters) waiter.reject(error);
    },
  };
}
