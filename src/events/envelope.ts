import { z } from 'zod';
import { type CloudEvent, SPEC_VERSION } from './cloud-event.ts';
import { ValidationError, type ValidationIssue } from './errors.ts';
import { issuesFromZod, joinPath } from './issues.ts';
import { isMediaType } from './media-type.ts';
import { isTimestamp } from './timestamp.ts';
import { isAbsoluteUri, isUriReference } from './uri.ts';

/** The context attributes of the CloudEvents 1.0 core specification, required ones first. */
export const CORE_ATTRIBUTES = [
  'specversion',
  'id',
  'source',
  'type',
  'subject',
  'time',
  'datacontenttype',
  'dataschema',
] as const;

const REQUIRED_ATTRIBUTES: ReadonlySet<string> = new Set(['specversion', 'id', 'source', 'type']);
const CORE_ATTRIBUTE_SET: ReadonlySet<string> = new Set(CORE_ATTRIBUTES);
// The spec also says names SHOULD NOT exceed 20 characters; a SHOULD is not grounds to reject an event.
const ATTRIBUTE_NAME = /^[a-z0-9]+$/;
const INT32_MIN = -2_147_483_648;
const INT32_MAX = 2_147_483_647;

/** True when `name` is a valid CloudEvents attribute name: lower-case ASCII letters and digits. */
export function isAttributeName(name: string): boolean {
  return ATTRIBUTE_NAME.test(name);
}

// CloudEvents `String`: no control characters, no Unicode noncharacters, no unpaired surrogates.
function isCloudEventsString(value: string): boolean {
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    if (code <= 0x1f || (code >= 0x7f && code <= 0x9f)) return false;
    // for...of yields a well-formed pair as one code point, so a surrogate seen here is unpaired.
    if (code >= 0xd800 && code <= 0xdfff) return false;
    if ((code >= 0xfdd0 && code <= 0xfdef) || (code & 0xfffe) === 0xfffe) return false;
  }
  return true;
}

const STRING_CHARACTERS = 'must not contain control characters, noncharacters or unpaired surrogates';

const nonEmptyString = (format: z.ZodType<string, string>) =>
  z.string({ error: 'must be a string' }).min(1, 'must not be empty').pipe(format);

const ATTRIBUTE_SCHEMAS: Record<(typeof CORE_ATTRIBUTES)[number], z.ZodType> = {
  specversion: z.literal(SPEC_VERSION, { error: `must be "${SPEC_VERSION}", the only version Keel reads` }),
  id: nonEmptyString(z.stringFormat('cloudevents-string', isCloudEventsString, STRING_CHARACTERS)),
  source: nonEmptyString(
    z.stringFormat('uri-reference', isUriReference, 'must be a URI-reference (RFC 3986), e.g. /orders'),
  ),
  type: nonEmptyString(z.stringFormat('cloudevents-string', isCloudEventsString, STRING_CHARACTERS)),
  subject: nonEmptyString(z.stringFormat('cloudevents-string', isCloudEventsString, STRING_CHARACTERS)),
  time: nonEmptyString(
    z.stringFormat('date-time', isTimestamp, 'must be an RFC 3339 timestamp, e.g. 2018-04-05T17:31:00Z'),
  ),
  datacontenttype: nonEmptyString(
    z.stringFormat('media-type', isMediaType, 'must be an RFC 2046 media type, e.g. application/json'),
  ),
  dataschema: nonEmptyString(
    z.stringFormat('uri', isAbsoluteUri, 'must be an absolute URI (RFC 3986 section 4.3)'),
  ),
};

const DATA_BASE64 = z.base64('must be a base64 string (RFC 4648)');

function checkExtension(name: string, value: unknown, path: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (!isAttributeName(name)) {
    issues.push({
      path,
      rule: 'invalid_name',
      message: 'attribute names must consist of lower-case letters and digits (a-z, 0-9)',
    });
  }
  if (typeof value === 'string') {
    if (!isCloudEventsString(value))
      issues.push({ path, rule: 'invalid_format', message: STRING_CHARACTERS });
  } else if (typeof value === 'number') {
    if (!Number.isInteger(value)) {
      issues.push({ path, rule: 'invalid_type', message: 'a number must be an integer' });
    } else if (value < INT32_MIN || value > INT32_MAX) {
      issues.push({
        path,
        rule: value < INT32_MIN ? 'too_small' : 'too_big',
        message: 'an integer must fit in 32 bits (-2147483648 to 2147483647)',
      });
    }
  } else if (typeof value !== 'boolean') {
    issues.push({ path, rule: 'invalid_type', message: 'must be a string, an integer or a boolean' });
  }
  return issues;
}

const FAST_CHECKS: Partial<Record<string, (value: string) => boolean>> = {
  id: isCloudEventsString,
  source: isUriReference,
  subject: isCloudEventsString,
  time: isTimestamp,
};

/**
 * Issues of individual attributes (core or extension) as `safeParseCloudEvent` would report them,
 * for events whose other attributes are valid by construction. Valid strings take a fast path.
 */
export function checkSuppliedAttributes(attributes: Readonly<Record<string, unknown>>): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const [name, value] of Object.entries(attributes)) {
    const fast = FAST_CHECKS[name];
    if (typeof value === 'string' && value !== '' && (fast ? fast(value) : isCloudEventsString(value)))
      continue;
    if (CORE_ATTRIBUTE_SET.has(name)) {
      const result = ATTRIBUTE_SCHEMAS[name as (typeof CORE_ATTRIBUTES)[number]].safeParse(value);
      if (!result.success) issues.push(...issuesFromZod(result.error.issues, name));
    } else {
      issues.push(...checkExtension(name, value, name));
    }
  }
  return issues;
}

/** What `safeParseCloudEvent` found: the event, or every issue. */
export type CloudEventParseResult =
  | { success: true; event: CloudEvent }
  | { success: false; issues: ValidationIssue[] };

/**
 * Checks a JSON-format object (or an in-memory event) against CloudEvents 1.0 without throwing.
 * Null attributes count as absent and are dropped; `data_base64` becomes `Uint8Array` data.
 * Issue paths start with `path`, e.g. `[3]` gives `[3].time`.
 */
export function safeParseCloudEvent(input: unknown, path = ''): CloudEventParseResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input) || ArrayBuffer.isView(input)) {
    return {
      success: false,
      issues: [{ path, rule: 'invalid_type', message: 'a CloudEvent must be an object' }],
    };
  }
  const source = input as Record<string, unknown>;
  const issues: ValidationIssue[] = [];
  const event: Record<string, unknown> = {};

  for (const name of CORE_ATTRIBUTES) {
    const value = source[name];
    const at = joinPath(path, name);
    if (value === undefined || value === null) {
      if (REQUIRED_ATTRIBUTES.has(name)) {
        issues.push({ path: at, rule: 'required', message: `the ${name} attribute is required` });
      }
      continue;
    }
    const result = ATTRIBUTE_SCHEMAS[name].safeParse(value);
    if (result.success) event[name] = result.data;
    else issues.push(...issuesFromZod(result.error.issues, at));
  }

  for (const [name, value] of Object.entries(source)) {
    if (CORE_ATTRIBUTE_SET.has(name) || name === 'data' || name === 'data_base64') continue;
    if (value === undefined || value === null) continue;
    const found = checkExtension(name, value, joinPath(path, name));
    if (found.length > 0) issues.push(...found);
    else event[name] = value;
  }

  // Unlike attributes, `data: null` is an explicit null payload, distinct from no data.
  const hasData = source.data !== undefined;
  const base64 = source.data_base64;
  if (base64 !== undefined && base64 !== null) {
    const at = joinPath(path, 'data_base64');
    if (hasData) {
      issues.push({
        path: at,
        rule: 'mutually_exclusive',
        message: 'data and data_base64 cannot both be present',
      });
    } else {
      const result = DATA_BASE64.safeParse(base64);
      if (result.success) event.data = Uint8Array.from(Buffer.from(result.data, 'base64'));
      else issues.push(...issuesFromZod(result.error.issues, at));
    }
  } else if (hasData) {
    event.data = source.data;
  }

  if (issues.length > 0) return { success: false, issues };
  return { success: true, event: event as CloudEvent };
}

/**
 * Validates a JSON-format object (or an in-memory event) against CloudEvents 1.0 and returns the event;
 * throws a ValidationError listing every issue, paths prefixed with `path` (e.g. `[3].time`).
 */
export function parseCloudEvent(input: unknown, path = ''): CloudEvent {
  const result = safeParseCloudEvent(input, path);
  if (result.success) return result.event;
  throw new ValidationError('invalid CloudEvent', result.issues, eventTypeOf(input));
}

function eventTypeOf(input: unknown): string | undefined {
  const type = typeof input === 'object' && input !== null ? (input as { type?: unknown }).type : undefined;
  return typeof type === 'string' ? type : undefined;
}
