import type { MessageToProduce, RecordsBatch } from '@platformatic/kafka';
import type { OutgoingRecord, StoredRecord } from '../transport.ts';

/** A record as the client produces it: bytes, headers as a map of bytes, explicit partition. */
export type ProducedMessage = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

// Attribute bits of a record batch (Kafka's DefaultRecordBatch).
const IS_CONTROL = 1 << 5;
const IS_TRANSACTIONAL = 1 << 4;
// Control record type (second int16 of its key) of a transaction's abort marker.
const ABORT_MARKER = 0;
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

/** A transaction the brokers list as aborted in a fetched range: its producer and first offset. */
export interface AbortedTransaction {
  producerId: bigint;
  firstOffset: bigint;
}

/**
 * Decodes fetched batches of one partition: skips records below `fromOffset` (a batch may start earlier),
 * transaction markers and the records of aborted transactions, stops after `maxRecords`. Values are copied
 * out of the response buffer so a kept record does not pin the whole fetch response in memory.
 */
export function decodeBatches(
  topic: string,
  partition: number,
  batches: readonly RecordsBatch[],
  fromOffset: bigint,
  maxRecords: number,
  abortedTransactions: readonly AbortedTransaction[] | null = null,
): DecodedRecords {
  const records: StoredRecord[] = [];
  let nextOffset: bigint | undefined;
  const aborting = abortedProducers(abortedTransactions);
  for (const batch of batches) {
    const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    const control = (batch.attributes & IS_CONTROL) !== 0;
    // Kept in step even for batches below `fromOffset`: an aborted transaction may have begun there.
    const aborted = aborting.visit(batch, lastOffset, control);
    if (lastOffset < fromOffset) continue;
    if (!control && !aborted) {
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

/**
 * Tracks which producers' transactions are aborted as batches go by, as Kafka's own consumer does: a
 * producer's aborted transaction starts at its listed first offset and ends at its abort marker. The client's
 * filter keeps only one aborted range per producer, so a producer with several aborts in one fetch would leak.
 */
function abortedProducers(listed: readonly AbortedTransaction[] | null) {
  const pending = [...(listed ?? [])].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : 1));
  const open = new Set<bigint>();
  let next = 0;
  return {
    /** Whether the batch's records belong to an aborted transaction; control batches close one. */
    visit(batch: RecordsBatch, lastOffset: bigint, control: boolean): boolean {
      while (next < pending.length && pending[next]!.firstOffset <= lastOffset)
        open.add(pending[next++]!.producerId);
      if (control) {
        const key = batch.records[0]?.key;
        if (key !== undefined && key !== null && key.length >= 4 && key.readInt16BE(2) === ABORT_MARKER) {
          open.delete(batch.producerId);
        }
        return false;
      }
      return (batch.attributes & IS_TRANSACTIONAL) !== 0 && open.has(batch.producerId);
    },
  };
}

function bytes(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}
