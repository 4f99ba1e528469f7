import type { Database } from 'better-sqlite3';

/** What maintenance needs to know about a partition. */
export interface PartitionState {
  logStart: bigint;
  logEnd: bigint;
  /** Sum of the sizes of the records held, in bytes. */
  sizeBytes: number;
  /** Log end offset when the partition was last compacted: newer records may have made older ones obsolete. */
  compactedThrough: bigint;
  /** Milliseconds since the epoch when the oldest kept tombstone may go, or null when none is kept. */
  tombstonesDueAt: number | null;
}

/** Offset, timestamp and size of one record, for deciding what retention deletes. */
export interface RecordExtent {
  offset: bigint;
  timestamp: number;
  size: number;
}

/** SQL for retention and compaction. */
export interface MaintenanceStatements {
  state(topicId: number, partition: number): PartitionState | undefined;
  /** Oldest records first, from `from` on. */
  extents(topicId: number, partition: number, from: bigint, limit: number): RecordExtent[];
  /** Deletes every record below `offset`. */
  deleteBelow(topicId: number, partition: number, offset: bigint): void;
  /** Deletes every keyed record that a newer record with the same key supersedes; returns how many. */
  deleteSuperseded(topicId: number, partition: number): number;
  /** Deletes keyed tombstones written at or before `cutoff` (ms); run after `deleteSuperseded`. */
  deleteTombstones(topicId: number, partition: number, cutoff: number): number;
  /** Timestamp of the oldest keyed tombstone, or null. */
  oldestTombstone(topicId: number, partition: number): number | null;
  /** Offset of the oldest record held, or null when the partition is empty. */
  firstOffset(topicId: number, partition: number): bigint | null;
  /** Sum of the sizes of the records held, in bytes. */
  totalSize(topicId: number, partition: number): number;
  /** Stores the log start offset and size after records were deleted. */
  setStart(topicId: number, partition: number, logStart: bigint, sizeBytes: number): void;
  /** Records that the partition is compacted up to `through`. */
  setCompacted(topicId: number, partition: number, through: bigint, tombstonesDueAt: number | null): void;
}

type RawState = [bigint, bigint, bigint, bigint, bigint | null];

/** Prepares the maintenance statements on one connection. */
export function prepareMaintenanceStatements(db: Database): MaintenanceStatements {
  const state = db
    .prepare<[number, number], RawState>(
      `SELECT log_start, log_end, size_bytes, compacted_through, tombstones_due_at FROM partitions
       WHERE topic_id = ? AND partition_index = ?`,
    )
    .raw(true)
    .safeIntegers(true);
  const extents = db
    .prepare<[number, number, bigint, number], [bigint, bigint, bigint]>(
      `SELECT record_offset, timestamp, size FROM records
       WHERE topic_id = ? AND partition_index = ? AND record_offset >= ?
       ORDER BY record_offset LIMIT ?`,
    )
    .raw(true)
    .safeIntegers(true);
  const deleteBelow = db.prepare(
    'DELETE FROM records WHERE topic_id = ? AND partition_index = ? AND record_offset < ?',
  );
  // One pass with a window function: the partition has no index on key, and compaction is rare.
  const deleteSuperseded = db.prepare(
    `DELETE FROM records WHERE topic_id = @topicId AND partition_index = @partition AND record_offset IN (
       SELECT record_offset FROM (
         SELECT record_offset,
                row_number() OVER (PARTITION BY key ORDER BY record_offset DESC) AS newness
         FROM records WHERE topic_id = @topicId AND partition_index = @partition AND key IS NOT NULL
       ) WHERE newness > 1
     )`,
  );
  const deleteTombstones = db.prepare(
    `DELETE FROM records WHERE topic_id = ? AND partition_index = ?
     AND key IS NOT NULL AND value IS NULL AND timestamp <= ?`,
  );
  const oldestTombstone = db
    .prepare<[number, number], number | null>(
      `SELECT min(timestamp) FROM records
       WHERE topic_id = ? AND partition_index = ? AND key IS NOT NULL AND value IS NULL`,
    )
    .pluck();
  const firstOffset = db
    .prepare<[number, number], bigint | null>(
      'SELECT min(record_offset) FROM records WHERE topic_id = ? AND partition_index = ?',
    )
    .pluck()
    .safeIntegers(true);
  const totalSize = db
    .prepare<[number, number], number>(
      'SELECT total(size) FROM records WHERE topic_id = ? AND partition_index = ?',
    )
    .pluck();
  const setStart = db.prepare(
    'UPDATE partitions SET log_start = ?, size_bytes = ? WHERE topic_id = ? AND partition_index = ?',
  );
  const setCompacted = db.prepare(
    `UPDATE partitions SET compacted_through = ?, tombstones_due_at = ?
     WHERE topic_id = ? AND partition_index = ?`,
  );
  return {
    state: (topicId, partition) => {
      const raw = state.get(topicId, partition);
      if (raw === undefined) return undefined;
      return {
        logStart: raw[0],
        logEnd: raw[1],
        sizeBytes: Number(raw[2]),
        compactedThrough: raw[3],
        tombstonesDueAt: raw[4] === null ? null : Number(raw[4]),
      };
    },
    extents: (topicId, partition, from, limit) =>
      extents.all(topicId, partition, from, limit).map((raw) => ({
        offset: raw[0],
        timestamp: Number(raw[1]),
        size: Number(raw[2]),
      })),
    deleteBelow: (topicId, partition, offset) => {
      deleteBelow.run(topicId, partition, offset);
    },
    deleteSuperseded: (topicId, partition) => deleteSuperseded.run({ topicId, partition }).changes,
    deleteTombstones: (topicId, partition, cutoff) =>
      deleteTombstones.run(topicId, partition, cutoff).changes,
    oldestTombstone: (topicId, partition) => oldestTombstone.get(topicId, partition) ?? null,
    firstOffset: (topicId, partition) => firstOffset.get(topicId, partition) ?? null,
    totalSize: (topicId, partition) => totalSize.get(topicId, partition) ?? 0,
    setStart: (topicId, partition, logStart, sizeBytes) => {
      setStart.run(logStart, sizeBytes, topicId, partition);
    },
    setCompacted: (topicId, partition, through, tombstonesDueAt) => {
      setCompacted.run(through, tombstonesDueAt, topicId, partition);
    },
  };
}
