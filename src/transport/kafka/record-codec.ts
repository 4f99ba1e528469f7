import type { MessageToProduce, RecordsBatch } from '@platformatic/kafka';
import type { OutgoingRecord, StoredRecord } from '../transport.ts';

/** A record as the client produces it: bytes, headers as a map of bytes, explicit partition. */
export type ProducedMessage = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

// Attribute bits of a record batch (Kafka's DefaultRecordBatch).
const IS_CONTROL = 1 << 5;
const LOG_APPEND_TIME = 1 << 3;
// Varints, attributes and lengths of one record besides its key, value and headers (an upper bound).
const RECORD_OVERHEAD_BYTES = 24;

const decoder = new TextDecoder();

/** Bytes the record takes in a batch, uncompressed (an upper bound), for batch size limits. */
export function recordSize(record: OutgoingRecord): number {
  let size = RECORD_OVERHEAD_BYTES + (record.key?.length ?? 0) * 3 + (record.value?.byteLength ?? 0);
  for (const [name, value] of Object.entries(record.headers)) size += 8 + (name.length + value.length) * 3;
  return size;
}

/**
 * Maps a record to the client's message for an explicit partition. Strings become UTF-8 bytes and the
 * value bytes are shared, not copied; `now` stamps records without a timestamp.
 */
export function toMessage(
  topic: string,
  partition: number,
  record: OutgoingRecord,
  now: number,
): ProducedMessage {
  const headers = new Map<Buffer, Buffer>();
  for (const [name, value] of Object.entries(record.headers)) {
    headers.set(Buffer.from(name, 'utf8'), Buffer.from(value, 'utf8'));
  }
  const value = record.value === null ? null : bytes(record.value);
  const message: ProducedMessage = {
    topic,
    partition,
    // A null value is a tombstone: the client writes length -1 for it.
    value: value as Buffer,
    headers,
    timestamp: BigInt(record.timestamp ?? now),
  };
  if (record.key !== null) message.key = Buffer.from(record.key, 'utf8');
  return message;
}

/** Records decoded from fetched batches, and where the next fetch of the partition starts. */
export interface DecodedRecords {
  records: StoredRecord[];
  /** Offset after the last batch seen (control and fully compacted batches included); undefined when there was none. */
  nextOffset: bigint | undefined;
}

/**
 * Decodes fetched batches of one partition: skips records below `fromOffset` (a batch may start earlier)
 * and transaction markers, stops after `maxRecords`. Values are copied out of the response buffer so a
 * kept record does not pin the whole fetch response in memory.
 */
export function decodeBatches(
  topic: string,
  partition: number,
  batches: readonly RecordsBatch[],
  fromOffset: bigint,
  maxRecords: number,
): DecodedRecords {
  const records: StoredRecord[] = [];
  let nextOffset: bigint | undefined;
  for (const batch of batches) {
    const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    if (lastOffset < fromOffset) continue;
    if ((batch.attributes & IS_CONTROL) === 0) {
      const logAppendTime = (batch.attributes & LOG_APPEND_TIME) !== 0;
      for (const record of batch.records) {
        const offset = batch.firstOffset + BigInt(record.offsetDelta);
        if (offset < fromOffset) continue;
        if (records.length >= maxRecords) return { records, nextOffset: offset };
        const headers: Record<string, string> = {};
        for (const [name, value] of record.headers) {
          if (name !== null) headers[decoder.decode(name)] = value === null ? '' : decoder.decode(value);
        }
        records.push({
          topic,
          partition,
          offset,
          key: record.key === null || record.key === undefined ? null : decoder.decode(record.key),
          value: record.value === null || record.value === undefined ? null : new Uint8Array(record.value),
          headers,
          timestamp: Number(
            logAppendTime ? batch.maxTimestamp : batch.firstTimestamp + record.timestampDelta,
          ),
        });
      }
    }
    nextOffset = lastOffset + 1n;
  }
  return { records, nextOffset };
}

function bytes(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}
