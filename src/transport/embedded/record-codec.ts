import type { OutgoingRecord, StoredRecord, TopicCompression } from '../transport.ts';
import { compressValue, decompressValue, type StoredCodec } from './record-compression.ts';
import type { StoredRow } from './sql/read-statements.ts';

/** A record checked and serialized for storage, before it has an offset. */
export interface EncodedRecord {
  key: string | null;
  /** The value as stored: compressed when `codec` is not 0. */
  value: Uint8Array | null;
  /** How `value` is compressed (0: it is not). */
  codec: StoredCodec;
  /** JSON object text, or null when there are no headers. */
  headers: string | null;
  /** Milliseconds since the epoch. */
  timestamp: number;
  /** Bytes counted against retention by size: key (UTF-8) + stored value + headers JSON. */
  size: number;
}

const noHeaders: Readonly<Record<string, string>> = Object.freeze({});

/**
 * Checks a record's shape (callers may be untyped JavaScript) and serializes it, its value compressed with
 * the topic's codec; `now` fills a missing timestamp.
 */
export function encodeRecord(
  record: OutgoingRecord,
  now: number,
  compression: TopicCompression = 'none',
): EncodedRecord {
  const { key, value, headers } = record;
  if (key !== null && typeof key !== 'string') throw new TypeError('record key must be a string or null');
  if (value !== null && !(value instanceof Uint8Array)) {
    throw new TypeError('record value must be a Uint8Array or null');
  }
  let headersJson: string | null = null;
  if (headers !== undefined && headers !== null) {
    if (typeof headers !== 'object') throw new TypeError('record headers must be an object of strings');
    const names = Object.keys(headers);
    for (const name of names) {
      if (typeof headers[name] !== 'string') throw new TypeError(`record header "${name}" must be a string`);
    }
    if (names.length > 0) headersJson = JSON.stringify(headers);
  }
  const timestamp = record.timestamp ?? now;
  if (!Number.isFinite(timestamp))
    throw new TypeError('record timestamp must be a finite number of milliseconds');
  const stored = compressValue(value, compression);
  const size =
    (key === null ? 0 : Buffer.byteLength(key, 'utf8')) +
    (stored.value === null ? 0 : stored.value.byteLength) +
    (headersJson === null ? 0 : Buffer.byteLength(headersJson, 'utf8'));
  return { key, ...stored, headers: headersJson, timestamp: Math.trunc(timestamp), size };
}

/** Turns a stored row into the port's record shape, its value decompressed. */
export function decodeRecord(topic: string, partition: number, row: StoredRow): StoredRecord {
  return {
    topic,
    partition,
    offset: row.offset,
    key: row.key,
    value: decompressValue(row.value, row.codec, { topic, partition, offset: row.offset }),
    headers: row.headers === null ? noHeaders : (JSON.parse(row.headers) as Record<string, string>),
    timestamp: row.timestamp,
  };
}
