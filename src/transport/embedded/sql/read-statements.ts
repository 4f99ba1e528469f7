import type { Database } from 'better-sqlite3';

/** A record row as read back. */
export interface StoredRow {
  offset: bigint;
  /** Milliseconds since the epoch. */
  timestamp: number;
  key: string | null;
  /** JSON object text, or null when there are no headers. */
  headers: string | null;
  /** The value as stored: compressed when `codec` is not 0. */
  value: Uint8Array | null;
  /** How `value` is compressed (0: it is not; Kafka's codec numbers otherwise). */
  codec: number;
}

/** A partition's log start and log end offsets. */
export interface PartitionBounds {
  partition: number;
  logStart: bigint;
  logEnd: bigint;
}

/** SQL for reading records and partition bounds. */
export interface ReadStatements {
  /** Up to `limit` records of one partition with offsets at or after `from`, in offset order. */
  range(topicId: number, partition: number, from: bigint, limit: number): StoredRow[];
  bounds(topicId: number, partition: number): PartitionBounds | undefined;
  /** Bounds of every partition of a topic, by partition. */
  allBounds(topicId: number): PartitionBounds[];
  /** Bytes held by every partition of a topic, by partition (kept up to date by appends and retention). */
  sizes(topicId: number): Array<{ partition: number; bytes: number }>;
}

type RawRow = [bigint, bigint, string | null, string | null, Buffer | null, bigint];
type RawBounds = [bigint, bigint, bigint];

function toBounds(raw: RawBounds): PartitionBounds {
  return { partition: Number(raw[0]), logStart: raw[1], logEnd: raw[2] };
}

/** Prepares the read statements on one connection. */
export function prepareReadStatements(db: Database): ReadStatements {
  const range = db
    .prepare<[number, number, bigint, number], RawRow>(
      `SELECT record_offset, timestamp, key, headers, value, codec FROM records
       WHERE topic_id = ? AND partition_index = ? AND record_offset >= ?
       ORDER BY record_offset LIMIT ?`,
    )
    .raw(true)
    .safeIntegers(true);
  const bounds = db
    .prepare<[number, number], RawBounds>(
      'SELECT partition_index, log_start, log_end FROM partitions WHERE topic_id = ? AND partition_index = ?',
    )
    .raw(true)
    .safeIntegers(true);
  const allBounds = db
    .prepare<[number], RawBounds>(
      'SELECT partition_index, log_start, log_end FROM partitions WHERE topic_id = ? ORDER BY partition_index',
    )
    .raw(true)
    .safeIntegers(true);
  const sizes = db
    .prepare<[number], [number, number]>(
      'SELECT partition_index, size_bytes FROM partitions WHERE topic_id = ? ORDER BY partition_index',
    )
    .raw(true);
  return {
    range: (topicId, partition, from, limit) =>
      range.all(topicId, partition, from, limit).map((raw) => ({
        offset: raw[0],
        timestamp: Number(raw[1]),
        key: raw[2],
        headers: raw[3],
        // A view, not a copy: callers get a plain Uint8Array as the port promises.
        value: raw[4] === null ? null : new Uint8Array(raw[4].buffer, raw[4].byteOffset, raw[4].byteLength),
        codec: Number(raw[5]),
      })),
    bounds: (topicId, partition) => {
      const raw = bounds.get(topicId, partition);
      return raw === undefined ? undefined : toBounds(raw);
    },
    allBounds: (topicId) => allBounds.all(topicId).map(toBounds),
    sizes: (topicId) => sizes.all(topicId).map(([partition, bytes]) => ({ partition, bytes })),
  };
}
