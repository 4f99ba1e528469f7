import { createHash } from 'node:crypto';
import type { Catalog } from '../../events/catalog.ts';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { dataschemaFor } from '../../events/data-schema.ts';

/**
 * Attributes left out of an event's content: trace context belongs to one attempt of a request, so a
 * retry through an instrumented client may carry another one.
 */
const PER_ATTEMPT = new Set(['traceparent', 'tracestate']);

/**
 * SHA-256 (hex) of an event's content as the client sent it: every attribute and the data, keys in any
 * order (objects are hashed with sorted keys), binary data by its bytes. Same content, same hash.
 */
export function eventFingerprint(event: CloudEvent): string {
  const hash = createHash('sha256');
  // Structured mode may leave out `datacontenttype` for JSON data; binary mode always has one (the body's).
  const content =
    event.datacontenttype === undefined && event.data !== undefined && !(event.data instanceof Uint8Array)
      ? { ...event, datacontenttype: 'application/json' }
      : event;
  hash.update(canonicalJson(content as unknown as Record<string, unknown>, true));
  return hash.digest('hex');
}

/** JSON with object keys sorted at every depth and bytes as `{"$bytes":"<base64>"}`; drops undefined members. */
export function canonicalJson(value: unknown, topLevel = false): string {
  if (value instanceof Uint8Array)
    return `{"$bytes":${JSON.stringify(Buffer.from(value).toString('base64'))}}`;
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const members: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[key];
    if (member === undefined || (topLevel && PER_ATTEMPT.has(key))) continue;
    members.push(`${JSON.stringify(key)}:${canonicalJson(member)}`);
  }
  return `{${members.join(',')}}`;
}

/**
 * The event with what the Publisher adds when it stores it: the `dataschema` of its type's current
 * version and the `partitionkey` its definition picks, when the client left them out. An event posted
 * without them and the same event exported (which carries them) are then the same content, so importing
 * an export into the node that first took the events finds them, instead of a conflict.
 */
export function storedForm<Event extends CloudEvent>(event: Event, catalog: Catalog | undefined): Event {
  const definition = catalog?.event(event.type);
  if (definition === undefined) return event;
  let stored = event;
  if (stored.dataschema === undefined)
    stored = { ...stored, dataschema: dataschemaFor(event.type, definition.version) };
  if (
    stored.partitionkey === undefined &&
    definition.partitionKey !== undefined &&
    event.data !== undefined
  ) {
    try {
      stored = { ...stored, partitionkey: definition.partitionKey(event.data as never) };
    } catch {
      // Data the key cannot be read from fails validation in the Publisher; the fingerprint stays as sent.
    }
  }
  return stored;
}
