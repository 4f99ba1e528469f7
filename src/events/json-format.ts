import type { CloudEvent } from './cloud-event.ts';
import { utf8Decode } from './data-encoding.ts';
import { parseCloudEvent, safeParseCloudEvent } from './envelope.ts';
import { ValidationError, type ValidationIssue } from './errors.ts';
import { joinPath } from './issues.ts';
import { isJsonMediaType } from './media-type.ts';

/** Media type of one event in the structured JSON format. */
export const CLOUDEVENTS_JSON = 'application/cloudevents+json';

/** Media type of a JSON batch of events. */
export const CLOUDEVENTS_BATCH_JSON = 'application/cloudevents-batch+json';

type StructuredResult =
  | { value: Record<string, unknown>; issues?: undefined }
  | { issues: ValidationIssue[] };

function structuredObject(event: CloudEvent, path: string): StructuredResult {
  const parsed = safeParseCloudEvent(event, path);
  if (!parsed.success) return { issues: parsed.issues };
  const { data, ...attributes } = parsed.event;
  const value: Record<string, unknown> = { ...attributes };
  if (data === undefined) return { value };
  if (data instanceof Uint8Array) {
    value.data_base64 = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
    return { value };
  }
  const contentType = attributes.datacontenttype;
  // The JSON format stores non-JSON content as a string; other values cannot be represented faithfully.
  if (contentType !== undefined && !isJsonMediaType(contentType) && typeof data !== 'string') {
    return {
      issues: [
        {
          path: joinPath(path, 'data'),
          rule: 'invalid_type',
          message: `data of content type ${contentType} must be a string or a Uint8Array`,
        },
      ],
    };
  }
  value.data = data;
  return { value };
}

/** The JSON object of an event in the structured JSON format (binary data as `data_base64`). */
export function toStructuredObject(event: CloudEvent): Record<string, unknown> {
  const result = structuredObject(event, '');
  if (result.issues) throw new ValidationError('invalid CloudEvent', result.issues, event.type);
  return result.value;
}

/** Serializes one event in the CloudEvents JSON format (`application/cloudevents+json`); validates first. */
export function encodeStructured(event: CloudEvent): string {
  return JSON.stringify(toStructuredObject(event));
}

/** Serializes events as a JSON batch (`application/cloudevents-batch+json`); issue paths name the index. */
export function encodeBatch(events: readonly CloudEvent[]): string {
  const values: Record<string, unknown>[] = [];
  const issues: ValidationIssue[] = [];
  events.forEach((event, index) => {
    const result = structuredObject(event, joinPath('', index));
    if (result.issues) issues.push(...result.issues);
    else values.push(result.value);
  });
  if (issues.length > 0) throw new ValidationError('invalid CloudEvent batch', issues);
  return JSON.stringify(values);
}

/** Parses JSON text (or UTF-8 bytes); throws a ValidationError with rule `malformed_json`. */
export function parseJsonText(text: string | Uint8Array): unknown {
  const source = typeof text === 'string' ? text : utf8Decode(text);
  if (source === undefined) {
    throw new ValidationError('malformed JSON', [
      { path: '', rule: 'malformed_json', message: 'the body is not valid UTF-8' },
    ]);
  }
  try {
    return JSON.parse(source);
  } catch (error) {
    throw new ValidationError('malformed JSON', [
      { path: '', rule: 'malformed_json', message: (error as Error).message },
    ]);
  }
}

/**
 * Parses one event in the structured JSON format: `data_base64` becomes `Uint8Array` data, `data` is
 * kept as the JSON value it is (for JSON content types, or none, it is never parsed again).
 */
export function decodeStructured(text: string | Uint8Array): CloudEvent {
  return parseCloudEvent(parseJsonText(text));
}

/** Parses a JSON batch: it must be an array; every element is validated, issue paths like `[3].time`. */
export function decodeBatch(text: string | Uint8Array): CloudEvent[] {
  return decodeBatchValue(parseJsonText(text));
}

/** Validates an already-parsed JSON batch value. */
export function decodeBatchValue(value: unknown): CloudEvent[] {
  if (!Array.isArray(value)) {
    throw new ValidationError('invalid CloudEvent batch', [
      { path: '', rule: 'invalid_type', message: 'a batch must be a JSON array of events' },
    ]);
  }
  const events: CloudEvent[] = [];
  const issues: ValidationIssue[] = [];
  value.forEach((element, index) => {
    const result = safeParseCloudEvent(element, joinPath('', index));
    if (result.success) events.push(result.event);
    else issues.push(...result.issues);
  });
  if (issues.length > 0) throw new ValidationError('invalid CloudEvent batch', issues);
  return events;
}
