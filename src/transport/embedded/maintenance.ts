import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import type { MaintenanceStatements } from './sql/maintenance-statements.ts';
import type { TopicRow, TopicStatements } from './sql/topic-statements.ts';

/** Settings of retention and compaction. */
export interface MaintenanceOptions {
  db: Database;
  topics: TopicStatements;
  statements: MaintenanceStatements;
  logger: Logger;
  /** Milliseconds a tombstone that is the newest record of its key is kept before compaction drops it. */
  tombstoneRetentionMs: number;
}

/** Applies retention and compaction to every topic that asks for them. */
export interface Maintenance {
  /** One pass over every partition; each partition is cleaned in its own short write transaction. */
  run(now?: number): void;
}

// Rows read per step while looking for where retention stops.
const scanChunk = 1_000;

/**
 * Creates the maintenance job. Retention deletes a prefix of the partition (oldest first) and
 * moves the log start offset; compaction deletes records that a newer record with the same key
 * supersedes, keeps a tombstone (null value) for `tombstoneRetentionMs` after it was written so
 * consumers get to see the delete, then drops it. Keyless records are never compacted away.
 */
export function createMaintenance(options: MaintenanceOptions): Maintenance {
  const { db, topics, statements: sql, logger, tombstoneRetentionMs } = options;

  // Walks the partition oldest first while `expired` says so; returns the offset of the first record
  // to keep (the log end when every record goes) and the bytes before it, or undefined to keep all.
  const retainFrom = (
    topic: TopicRow,
    partition: number,
    from: bigint,
    logEnd: bigint,
    expired: (timestamp: number, removedBytes: number) => boolean,
  ): { keepFrom: bigint; removedBytes: number } | undefined => {
    let removedBytes = 0;
    let removed = 0;
    let cursor = from;
    for (;;) {
      const rows = sql.extents(topic.id, partition, cursor, scanChunk);
      for (const row of rows) {
        if (!expired(row.timestamp, removedBytes)) {
          return removed === 0 ? undefined : { keepFrom: row.offset, removedBytes };
        }
        removedBytes += row.size;
        removed++;
      }
      const last = rows.at(-1);
      if (rows.length < scanChunk || last === undefined) {
        return removed === 0 ? undefined : { keepFrom: logEnd, removedBytes };
      }
      cursor = last.offset + 1n;
    }
  };

  const cleanPartition = db.transaction((topic: TopicRow, partition: number, now: number): boolean => {
    const state = sql.state(topic.id, partition);
    if (state === undefined) return false;
    let size = state.sizeBytes;
    let deleted = false;
    if (
      topic.compacted &&
      (state.logEnd > state.compactedThrough ||
        (state.tombstonesDueAt !== null && state.tombstonesDueAt <= now))
    ) {
      const removed =
        sql.deleteSuperseded(topic.id, partition) +
        sql.deleteTombstones(topic.id, partition, now - tombstoneRetentionMs);
      const oldest = sql.oldestTombstone(topic.id, partition);
      sql.setCompacted(
        topic.id,
        partition,
        state.logEnd,
        oldest === null ? null : oldest + tombstoneRetentionMs,
      );
      if (removed > 0) size = sql.totalSize(topic.id, partition);
      deleted ||= removed > 0;
    }
    const trim = (expired: (timestamp: number, removedBytes: number) => boolean): void => {
      const cut = retainFrom(topic, partition, state.logStart, state.logEnd, expired);
      if (cut === undefined) return;
      sql.deleteBelow(topic.id, partition, cut.keepFrom);
      size -= cut.removedBytes;
      deleted = true;
    };
    if (topic.retentionMs !== null) {
      const cutoff = now - topic.retentionMs;
      trim((timestamp) => timestamp < cutoff);
    }
    if (topic.retentionBytes !== null && size > topic.retentionBytes) {
      const excess = size - topic.retentionBytes;
      trim((_timestamp, removedBytes) => removedBytes < excess);
    }
    if (deleted) {
      sql.setStart(
        topic.id,
        partition,
        sql.firstOffset(topic.id, partition) ?? state.logEnd,
        Math.max(0, size),
      );
    }
    return deleted;
  });

  return {
    run: (now = Date.now()) => {
      for (const topic of topics.all()) {
        if (topic.retentionMs === null && topic.retentionBytes === null && !topic.compacted) continue;
        for (let partition = 0; partition < topic.partitions; partition++) {
          const deleted = cleanPartition.immediate(topic, partition, now);
          if (deleted) {
            logger.debug(
              { topic: topic.name, partition },
              'embedded transport: retention/compaction deleted records',
            );
          }
        }
      }
    },
  };
}
