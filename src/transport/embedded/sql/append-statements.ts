import type { Database } from 'better-sqlite3';

/** A record ready to be inserted: headers already serialized, size already computed. */
export interface RecordRow {
  topicId: number;
  partition: number;
  offset: bigint;
  /** Milliseconds since the epoch. */
  timestamp: number;
  /** Bytes counted against retention by size. */
  size: number;
  key: string | null;
  /** JSON object text, or null when there are no headers. */
  headers: string | null;
  value: Uint8Array | null;
}

/** SQL run inside one group-commit transaction. */
export interface AppendStatements {
  /** Offset the next record of the partition gets, or undefined when the partition does not exist. */
  logEnd(topicId: number, partition: number): bigint | undefined;
  insert(row: RecordRow): void;
  /** Moves the log end offset and adds the appended bytes to the partition's size. */
  advance(topicId: number, partition: number, logEnd: bigint, addedBytes: number): void;
}

/** Prepares the append statements on one connection. */
export function prepareAppendStatements(db: Database): AppendStatements {
  const logEnd = db
    .prepare<[number, number], bigint>(
      'SELECT log_end FROM partitions WHERE topic_id = ? AND partition_index = ?',
    )
    .pluck()
    .safeIntegers(true);
  const insert = db.prepare(
    `INSERT INTO records (topic_id, partition_index, record_offset, timestamp, size, key, headers, value)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const advance = db.prepare(
    'UPDATE partitions SET log_end = ?, size_bytes = size_bytes + ? WHERE topic_id = ? AND partition_index = ?',
  );
  return {
    logEnd: (topicId, partition) => logEnd.get(topicId, partition),
    insert: (row) => {
      insert.run(
        row.topicId,
        row.partition,
        row.offset,
        row.timestamp,
        row.size,
        row.key,
        row.headers,
        row.value,
      );
    },
    advance: (topicId, partition, end, addedBytes) => {
      advance.run(end, addedBytes, topicId, partition);
    },
  };
}
