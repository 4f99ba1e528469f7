import type { Database } from 'better-sqlite3';
import type { EncodedRecord } from '../record-codec.ts';

/** SQL run inside one group-commit transaction. */
export interface AppendStatements {
  /** Offset the next record of the partition gets, or undefined when the partition does not exist. */
  logEnd(topicId: number, partition: number): bigint | undefined;
  /** Inserts one encoded record at `offset` (no object is built per row: this is the hot loop). */
  insert(topicId: number, partition: number, offset: bigint, record: EncodedRecord): void;
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
    `INSERT INTO records (topic_id, partition_index, record_offset, timestamp, size, key, headers, value, codec)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const advance = db.prepare(
    'UPDATE partitions SET log_end = ?, size_bytes = size_bytes + ? WHERE topic_id = ? AND partition_index = ?',
  );
  return {
    logEnd: (topicId, partition) => logEnd.get(topicId, partition),
    insert: (topicId, partition, offset, record) => {
      insert.run(
        topicId,
        partition,
        offset,
        record.timestamp,
        record.size,
        record.key,
        record.headers,
        record.value,
        record.codec,
      );
    },
    advance: (topicId, partition, end, addedBytes) => {
      advance.run(end, addedBytes, topicId, partition);
    },
  };
}
