import { z } from 'zod';
import type { StoredRecord } from '../../transport/transport.ts';
import { decodeRecord } from './message-filter.ts';

/** JSON shape of a message as the API shows it. */
export const messageSchema = z.object({
  topic: z.string(),
  partition: z.int(),
  offset: z.string().describe('Offset in the partition (a 64-bit integer, as digits).'),
  timestamp: z.iso.datetime().describe('When the record was appended.'),
  key: z.string().nullable(),
  headers: z.record(z.string(), z.string()),
  event: z
    .record(z.string(), z.unknown())
    .nullable()
    .describe('The decoded CloudEvent, or null when the record is not a valid one.'),
  size: z.int().describe('Bytes of the value (0 for a tombstone).'),
});

/** A message with its raw bytes. */
export const messageWithBytesSchema = messageSchema.extend({
  value: z.string().nullable().describe('The raw value bytes, base64; null for a tombstone.'),
});

/** JSON view of a stored record (the event decoded when it is one). */
export function messageView(record: StoredRecord): z.input<typeof messageSchema> {
  const event = decodeRecord(record);
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset.toString(),
    timestamp: new Date(record.timestamp).toISOString(),
    key: record.key,
    headers: { ...record.headers },
    event: event === undefined ? null : jsonSafe(event),
    size: record.value?.byteLength ?? 0,
  };
}

/** The view plus the raw value, base64. */
export function messageWithBytesView(record: StoredRecord): z.input<typeof messageWithBytesSchema> {
  return {
    ...messageView(record),
    value: record.value === null ? null : Buffer.from(record.value).toString('base64'),
  };
}

/** An event as JSON can carry it: binary data as base64 (the `data_base64` of the JSON format). */
function jsonSafe(event: object): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...event };
  if (copy.data instanceof Uint8Array) {
    copy.data_base64 = Buffer.from(copy.data).toString('base64');
    delete copy.data;
  }
  return copy;
}
