import type { OutgoingRecord, StoredRecord } from '../transport.ts';
import type { StoredRow } from './sql/read-statements.ts';

/** A record checked and serialized for storage, before it has an offset. */
export interface EncodedRecord {
  key: string | null;
  value: Uint8Array | null;
  /** JSON object text, or null when there are no headers. */
  headers: string | null;
  /** Milliseconds since the epoch. */
  timestamp: number;
  /** Bytes counted against retention by size: key (UTF-8) + value + headers JSON. */
  size: number;
}

const noHeaders: Readonly<Record<string, string>> = Object.freeze({});

/** Checks a record's shape (callers may be untyped JavaScript) and serializes it; `now` fills a missing timestamp. */
export function encodeRecord(record: OutgoingRecord, now: number): EncodedRecord {
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
  const size =
    (key === null ? 0 : Buffer.byteLength(key, 'utf8')) +
    (value === null ? 0 : value.byteLength) +
    (headersJson === null ? 0 : Buffer.byteLength(headersJson, 'utf8'));
  return { key, value, headers: headersJson, timestamp: Math.trunc(timestamp), size };
}

/** Turns a stored row into the port's record shape. */
export function decodeRecord(topic: string, partition: number, row: StoredRow): StoredRecord {
  return {
    topic,
    partition,
    offset: row.offset,
    key: row.key,
    value: row.value,
    headers: row.headers === null ? noHeaders : (JSON.parse(row.headers) as Record<string, string>),
    timestamp: row.timestamp,
  };
}
