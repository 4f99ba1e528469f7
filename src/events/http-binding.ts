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
import {
  CLOUDEVENTS_BATCH_JSON,
  CLOUDEVENTS_JSON,
  decodeBatch,
  decodeBatchValue,
  decodeStructured,
  encodeBatch,
  encodeStructured,
  parseJsonText,
} from './json-format.ts';
import { mediaTypeEssence } from './media-type.ts';

/** Request or response headers as Node gives them: names in any case, repeated headers as arrays. */
export type HttpHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** An HTTP message carrying CloudEvents: lower-case header names and the body bytes. */
export interface HttpMessage {
  headers: Record<string, string>;
  body: Uint8Array;
}

const HEADER_PREFIX = 'ce-';

function unsupported(contentType: string): ValidationError {
  return new ValidationError('unsupported CloudEvents format', [
    {
      path: '',
      rule: 'unsupported_format',
      message: `content type ${contentType} is not a format Keel reads (${CLOUDEVENTS_JSON}, ${CLOUDEVENTS_BATCH_JSON})`,
    },
  ]);
}

// Lower-cases names and rejects repeated CloudEvents headers, which would silently merge two values.
function normalizeHeaders(headers: HttpHeaders): Map<string, string> {
  const normalized = new Map<string, string>();
  const issues: ValidationIssue[] = [];
  for (const [rawName, rawValue] of Object.entries(headers)) {
    if (rawValue === undefined) continue;
    const name = rawName.toLowerCase();
    const relevant = name === 'content-type' || name.startsWith(HEADER_PREFIX);
    const values = typeof rawValue === 'string' ? [rawValue] : rawValue;
    if (relevant && (values.length > 1 || normalized.has(name))) {
      issues.push({ path: name, rule: 'duplicate_header', message: `header ${name} must appear once` });
      continue;
    }
    if (values.length > 0) normalized.set(name, values.join(', '));
  }
  if (issues.length > 0) throw new ValidationError('invalid CloudEvents HTTP message', issues);
  return normalized;
}

function percentEncode(value: string): string {
  let encoded = '';
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    if (code > 0x20 && code < 0x7f && char !== '"' && char !== '%') {
      encoded += char;
    } else {
      for (const byte of utf8Encode(char)) encoded += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  return encoded;
}

// HTTP binding 3.1.3.2: unquote an RFC 7230 quoted-string, then one round of percent-decoding into UTF-8
// (invalid UTF-8, such as the overlong %C0%A0, is rejected).
function decodeHeaderValue(raw: string): string | undefined {
  let value = raw.trim();
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    let unquoted = '';
    for (let i = 1; i < value.length - 1; i++) {
      const char = value.charAt(i);
      if (char === '"') return undefined;
      if (char === '\\') {
        i++;
        if (i >= value.length - 1) return undefined;
      }
      unquoted += value.charAt(i);
    }
    value = unquoted;
  }
  const bytes: number[] = [];
  for (let i = 0; i < value.length; ) {
    if (value[i] === '%') {
      const hex = value.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
      bytes.push(Number.parseInt(hex, 16));
      i += 3;
    } else {
      const char = String.fromCodePoint(value.codePointAt(i) ?? 0);
      bytes.push(...utf8Encode(char));
      i += char.length;
    }
  }
  return utf8Decode(Uint8Array.from(bytes));
}

function decodeBinary(headers: Map<string, string>, body: Uint8Array | string): CloudEvent {
  const issues: ValidationIssue[] = [];
  const attributes: Record<string, unknown> = {};
  for (const [name, raw] of headers) {
    if (!name.startsWith(HEADER_PREFIX)) continue;
    const attribute = name.slice(HEADER_PREFIX.length);
    if (attribute === 'datacontenttype') {
      issues.push({
        path: attribute,
        rule: 'forbidden_header',
        message: 'binary mode carries datacontenttype in Content-Type; ce-datacontenttype must not be sent',
      });
      continue;
    }
    const value = decodeHeaderValue(raw);
    if (value === undefined) {
      issues.push({
        path: attribute,
        rule: 'invalid_percent_encoding',
        message: `header ${name} is not a valid percent-encoded UTF-8 value`,
      });
    } else {
      attributes[attribute] = value;
    }
  }
  const contentType = headers.get('content-type')?.trim();
  if (contentType !== undefined && contentType !== '') attributes.datacontenttype = contentType;
  if (body.length > 0) {
    const decoded = decodeDataBytes(body, contentType);
    if (decoded.issue) issues.push(decoded.issue);
    else attributes.data = decoded.data;
  }
  const result = safeParseCloudEvent(attributes);
  if (!result.success) issues.push(...result.issues);
  if (issues.length > 0 || !result.success) {
    const type = typeof attributes.type === 'string' ? attributes.type : undefined;
    throw new ValidationError('invalid CloudEvents HTTP message', issues, type);
  }
  return result.event;
}

/**
 * Decodes the CloudEvents in an HTTP request or response (HTTP protocol binding 1.0):
 * - structured mode: `Content-Type: application/cloudevents+json` (one event);
 * - batched mode: `Content-Type: application/cloudevents-batch+json` (an array, possibly empty);
 * - binary mode: `ce-*` headers (any case, percent-decoded) carry the attributes, `Content-Type` becomes
 *   `datacontenttype`, and the body the data: parsed for JSON types (`*\/json`, `*\/*+json`), a string for
 *   UTF-8 `text/*`, else the bytes (or the string, when the body was given as one). An empty body is no data.
 *
 * Convenience beyond the binding, for clients that cannot set a CloudEvents content type: with
 * `Content-Type: application/json` and no `ce-*` header, a body that is a JSON object with `specversion`
 * is read as structured mode and a JSON array as a batch.
 *
 * Throws a ValidationError listing every issue (`unsupported_format` for other `application/cloudevents*`
 * formats, `malformed_json`, `invalid_percent_encoding`, missing attributes, ...).
 */
export function decodeHttp(headers: HttpHeaders, body: Uint8Array | string): CloudEvent[] {
  return readHttp(headers, body).events();
}

/** How an HTTP message carries its events: the three modes of the CloudEvents HTTP binding. */
export type HttpMode = 'structured' | 'batch' | 'binary';

/** An HTTP message's mode, decided once from its headers, and its events, decoded on demand. */
export interface HttpReading {
  /**
   * The mode the message is read in; undefined when it carries CloudEvents in no mode (no CloudEvents or
   * JSON content type, no `ce-*` header): a server answers 415 without decoding.
   */
  readonly mode: HttpMode | undefined;
  /** Decodes the events as `decodeHttp` does; throws ValidationError listing every issue. */
  events(): CloudEvent[];
}

/**
 * Reads an HTTP message's headers once: its mode at once (for a server's 415 and its error answers),
 * its events when asked. Throws ValidationError for repeated CloudEvents headers.
 */
export function readHttp(headers: HttpHeaders, body: Uint8Array | string): HttpReading {
  const normalized = normalizeHeaders(headers);
  const contentType = normalized.get('content-type');
  const essence = contentType === undefined ? undefined : mediaTypeEssence(contentType);
  if (contentType !== undefined && essence?.startsWith('application/cloudevents-batch')) {
    return {
      mode: 'batch',
      events: () => {
        if (essence !== CLOUDEVENTS_BATCH_JSON) throw unsupported(contentType);
        return decodeBatch(body);
      },
    };
  }
  if (contentType !== undefined && essence?.startsWith('application/cloudevents')) {
    return {
      mode: 'structured',
      events: () => {
        if (essence !== CLOUDEVENTS_JSON) throw unsupported(contentType);
        return [decodeStructured(body)];
      },
    };
  }
  const binary = (): CloudEvent[] => [decodeBinary(normalized, body)];
  if ([...normalized.keys()].some((name) => name.startsWith(HEADER_PREFIX)))
    return { mode: 'binary', events: binary };
  if (essence !== 'application/json') return { mode: undefined, events: binary };
  return {
    mode: firstNonSpace(body) === '[' ? 'batch' : 'structured',
    events: () => {
      const value = parseJsonText(body);
      if (Array.isArray(value)) return decodeBatchValue(value);
      if (typeof value === 'object' && value !== null && 'specversion' in value)
        return [parseCloudEvent(value)];
      return binary();
    },
  };
}

// The first character of a JSON text that is not white space: `[` marks a batch.
function firstNonSpace(body: Uint8Array | string): string | undefined {
  for (let i = 0; i < body.length; i++) {
    const code = typeof body === 'string' ? body.charCodeAt(i) : (body[i] ?? 0);
    if (code !== 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) return String.fromCharCode(code);
  }
  return undefined;
}

/**
 * Encodes an event in HTTP binary mode: every attribute but `data` and `datacontenttype` as a percent-encoded
 * `ce-<name>` header, `content-type` = datacontenttype (`application/json` when absent and the data is not
 * bytes, as the JSON format implies), the data bytes as body (JSON-encoded for JSON types). Validates first.
 */
export function encodeHttpBinary(event: CloudEvent): HttpMessage {
  return encodeParsedHttpBinary(parseCloudEvent(event));
}

/**
 * `encodeHttpBinary` without validating again, for an event that `parseCloudEvent` already returned (every
 * event `fromRecord` decodes is one): push delivery encodes each consumed event once per attempt, and the
 * second validation was a fifth of a delivery's CPU.
 */
export function encodeParsedHttpBinary(valid: CloudEvent): HttpMessage {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(valid)) {
    if (name === 'data' || name === 'datacontenttype') continue;
    headers[`${HEADER_PREFIX}${name}`] = percentEncode(String(value));
  }
  const contentType = dataContentType(valid);
  if (contentType !== undefined) headers['content-type'] = contentType;
  return { headers, body: encodeDataBytes(valid) ?? new Uint8Array(0) };
}

/** Encodes an event in HTTP structured mode (`application/cloudevents+json; charset=utf-8`). */
export function encodeHttpStructured(event: CloudEvent): HttpMessage {
  return {
    headers: { 'content-type': `${CLOUDEVENTS_JSON}; charset=utf-8` },
    body: utf8Encode(encodeStructured(event)),
  };
}

/** Encodes events in HTTP batched mode (`application/cloudevents-batch+json; charset=utf-8`). */
export function encodeHttpBatch(events: readonly CloudEvent[]): HttpMessage {
  return {
    headers: { 'content-type': `${CLOUDEVENTS_BATCH_JSON}; charset=utf-8` },
    body: utf8Encode(encodeBatch(events)),
  };
}
