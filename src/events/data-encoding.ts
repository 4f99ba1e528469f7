import type { CloudEvent } from './cloud-event.ts';
import { ValidationError, type ValidationIssue } from './errors.ts';
import { isJsonMediaType, mediaTypeEssence, mediaTypeParameter } from './media-type.ts';

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 bytes of a string. */
export function utf8Encode(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** Text of UTF-8 bytes (a leading BOM dropped); undefined when the bytes are not valid UTF-8. */
export function utf8Decode(bytes: Uint8Array): string | undefined {
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Media type of an event's data as a binary-mode message must declare it: `datacontenttype`, else
 * `application/json` for non-binary data, since the JSON format implies it and a receiver could not
 * otherwise tell JSON from opaque bytes.
 */
export function dataContentType(event: CloudEvent): string | undefined {
  if (event.datacontenttype !== undefined) return event.datacontenttype;
  if (event.data === undefined || event.data instanceof Uint8Array) return undefined;
  return 'application/json';
}

/** Bytes of an event's data for a binary-mode message; undefined when the event has no data. */
export function encodeDataBytes(event: CloudEvent): Uint8Array | undefined {
  const { data } = event;
  if (data === undefined) return undefined;
  if (data instanceof Uint8Array) return data;
  const contentType = dataContentType(event);
  if (contentType === undefined || isJsonMediaType(contentType)) {
    const text = JSON.stringify(data);
    if (text !== undefined) return utf8Encode(text);
  } else if (typeof data === 'string') {
    return utf8Encode(data);
  }
  throw new ValidationError(
    'cannot encode data',
    [
      {
        path: 'data',
        rule: 'invalid_type',
        message: `data of content type ${contentType} must be a string or a Uint8Array`,
      },
    ],
    event.type,
  );
}

/** Data decoded from a message body, or the issue that prevented it. */
export type DecodedData = { data: unknown; issue?: undefined } | { data?: undefined; issue: ValidationIssue };

/**
 * Decodes a binary-mode body by its content type: JSON types are parsed, `text/*` in UTF-8 (or no
 * charset) becomes a string, anything else stays as given (bytes, or a string the caller already had).
 */
export function decodeDataBytes(body: Uint8Array | string, contentType: string | undefined): DecodedData {
  const text = typeof body === 'string' ? body : undefined;
  if (contentType !== undefined && isJsonMediaType(contentType)) {
    const json = text ?? utf8Decode(body as Uint8Array);
    if (json === undefined) {
      return { issue: { path: 'data', rule: 'invalid_encoding', message: 'JSON data must be UTF-8' } };
    }
    try {
      return { data: JSON.parse(json) };
    } catch (error) {
      return { issue: { path: 'data', rule: 'malformed_json', message: (error as Error).message } };
    }
  }
  if (text !== undefined) return { data: text };
  const bytes = body as Uint8Array;
  const charset =
    contentType === undefined ? undefined : mediaTypeParameter(contentType, 'charset')?.toLowerCase();
  if (
    contentType !== undefined &&
    mediaTypeEssence(contentType).startsWith('text/') &&
    (charset === undefined || charset === 'utf-8' || charset === 'us-ascii')
  ) {
    const decoded = utf8Decode(bytes);
    if (decoded === undefined) {
      return { issue: { path: 'data', rule: 'invalid_encoding', message: 'text data must be UTF-8' } };
    }
    return { data: decoded };
  }
  // A plain Uint8Array, not a Buffer or a view into a larger pool, so events compare and serialize alike.
  return { data: Uint8Array.from(bytes) };
}
