import type { CloudEvent } from './cloud-event.ts';
import {
  dataContentType,
  decodeDataBytes,
  encodeDataBytes,
  utf8Decode,
  utf8Encode,
} from './data-encoding.ts';
import { parseCloudEvent, safeParseCloudEvent } from './envelope.ts';
import { ValidationError, type ValidationIssue } from './errors.ts';
import { CLOUDEVENTS_JSON, decodeStructured, encodeStructured } from './json-format.ts';
import { mediaTypeEssence } from './media-type.ts';

/**
 * A Kafka record as the binding produces it. The same shape as the transport's `OutgoingRecord`,
 * declared here because `events` sits below `transport` and must not import it.
 */
export interface KafkaRecord {
  /** The event's `partitionkey`, or null. */
  key: string | null;
  /** Data bytes (binary mode; null when the event has no data) or the structured JSON. */
  value: Uint8Array | null;
  headers: Record<string, string>;
}

/** A Kafka record to decode: Keel's stored records, or a Kafka client's (headers may be bytes). */
export interface KafkaRecordInput {
  /** Not read: the binding maps keys from events, never attributes from keys. */
  key?: string | Uint8Array | null;
  value: Uint8Array | string | null | undefined;
  headers: Readonly<Record<string, string | Uint8Array | undefined>>;
}

/** How `toRecord` lays an event out. */
export interface ToRecordOptions {
  /** `binary` (default): attributes in `ce_` headers, data as value; `structured`: JSON format as value. */
  mode?: 'binary' | 'structured';
  /** The event was already checked (by `createEvent`, `validateEventData` or `parseCloudEvent`): skip the check. */
  validated?: boolean;
}

const HEADER_PREFIX = 'ce_';

/**
 * Maps an event to a Kafka record (Kafka protocol binding 1.0). The key is the `partitionkey` extension
 * (null when absent), which also stays in the headers: the binding forbids the key mapper from altering
 * the event. Binary mode puts every attribute but `data` and `datacontenttype` in `ce_<name>` headers,
 * datacontenttype in `content-type` (`application/json` when absent and data is not bytes) and the data
 * bytes in the value (null, a tombstone on compacted topics, when there is no data). Validates first
 * unless told the event was validated already.
 */
export function toRecord(event: CloudEvent, options: ToRecordOptions = {}): KafkaRecord {
  const valid = options.validated ? event : parseCloudEvent(event);
  const key = valid.partitionkey === undefined ? null : String(valid.partitionkey);
  // No record timestamp: the transport stamps append time, and an old event time would let
  // time-based retention delete the record at once.
  if (options.mode === 'structured') {
    return {
      key,
      value: utf8Encode(encodeStructured(valid)),
      headers: { 'content-type': `${CLOUDEVENTS_JSON}; charset=utf-8` },
    };
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(valid)) {
    if (name === 'data' || name === 'datacontenttype') continue;
    headers[`${HEADER_PREFIX}${name}`] = String(value);
  }
  const contentType = dataContentType(valid);
  if (contentType !== undefined) headers['content-type'] = contentType;
  return { key, value: encodeDataBytes(valid) ?? null, headers };
}

function headerText(name: string, value: string | Uint8Array, issues: ValidationIssue[]): string | undefined {
  if (typeof value === 'string') return value;
  const text = utf8Decode(value);
  if (text === undefined) {
    issues.push({ path: name, rule: 'invalid_encoding', message: `header ${name} is not valid UTF-8` });
  }
  return text;
}

/**
 * Decodes a Kafka record into an event. A `content-type` header starting with `application/cloudevents`
 * (any case) means structured mode (JSON format only; the Kafka binding has no batches); otherwise binary
 * mode: `ce_*` headers are the attributes, `content-type` the datacontenttype (`ce_datacontenttype` is read
 * only when `content-type` is absent), the value the data (parsed for JSON types, text for UTF-8 `text/*`).
 * The record key is not turned into `partitionkey`: the binding maps keys only from events to records.
 * Throws a ValidationError listing every issue.
 */
export function fromRecord(record: KafkaRecordInput): CloudEvent {
  const issues: ValidationIssue[] = [];
  const headers = new Map<string, string>();
  for (const [rawName, rawValue] of Object.entries(record.headers)) {
    if (rawValue === undefined) continue;
    const text = headerText(rawName, rawValue, issues);
    if (text !== undefined) headers.set(rawName.toLowerCase(), text);
  }
  const contentType = headers.get('content-type')?.trim();
  const essence = contentType === undefined ? undefined : mediaTypeEssence(contentType);

  if (contentType !== undefined && essence?.startsWith('application/cloudevents')) {
    if (essence !== CLOUDEVENTS_JSON) {
      issues.push({
        path: '',
        rule: 'unsupported_format',
        message: `content type ${contentType} is not a format Keel reads on Kafka (${CLOUDEVENTS_JSON})`,
      });
    } else if (record.value === null || record.value === undefined) {
      issues.push({ path: '', rule: 'required', message: 'a structured-mode record needs a value' });
    }
    if (issues.length > 0) throw new ValidationError('invalid CloudEvents Kafka record', issues);
    return decodeStructured(record.value as Uint8Array | string);
  }

  const attributes: Record<string, unknown> = {};
  for (const [name, value] of headers) {
    if (name.startsWith(HEADER_PREFIX)) attributes[name.slice(HEADER_PREFIX.length)] = value;
  }
  if (contentType !== undefined && contentType !== '') attributes.datacontenttype = contentType;
  if (record.value !== null && record.value !== undefined) {
    const decoded = decodeDataBytes(record.value, attributes.datacontenttype as string | undefined);
    if (decoded.issue) issues.push(decoded.issue);
    else attributes.data = decoded.data;
  }
  const result = safeParseCloudEvent(attributes);
  if (!result.success) issues.push(...result.issues);
  if (issues.length > 0 || !result.success) {
    const type = typeof attributes.type === 'string' ? attributes.type : undefined;
    throw new ValidationError('invalid CloudEvents Kafka record', issues, type);
  }
  return result.event;
}
