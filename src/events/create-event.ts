import type { z } from 'zod';
import { type CloudEvent, SPEC_VERSION } from './cloud-event.ts';
import { utf8Decode } from './data-encoding.ts';
import { dataschemaFor, parseDataschema } from './data-schema.ts';
import type { EventDefinition } from './define-event.ts';
import { checkSuppliedAttributes, safeParseCloudEvent } from './envelope.ts';
import { UpcastError, ValidationError, type ValidationIssue } from './errors.ts';
import { newEventId } from './event-id.ts';
import { issuesFromZod } from './issues.ts';
import { isJsonMediaType } from './media-type.ts';
import { upcastData } from './upcast.ts';

/** Envelope attributes for `createEvent`; absent ones are omitted from the event. */
export interface CreateEventOptions {
  /** URI-reference of the producing context, e.g. `/services/patients`. */
  source: string;
  /** Becomes the `tenantid` extension. */
  tenantId?: string;
  /** Becomes the `correlationid` extension. */
  correlationId?: string;
  /** Becomes the `causationid` extension. */
  causationId?: string;
  /** Defaults to the partition key. */
  subject?: string;
  /** Becomes the `partitionkey` extension; defaults to the definition's `partitionKey(data)`. */
  partitionKey?: string;
  /** Defaults to a new UUIDv7. */
  id?: string;
  /** Occurrence time; defaults to now. */
  time?: Date | string;
  /** W3C trace context of the emitting span. */
  traceparent?: string;
}

const JSON_CONTENT_TYPE = 'application/json';

// zod 4 reports a missing field as "expected string, received undefined"; "Required" says it plainly.
const requiredMessage: z.core.$ZodErrorMap = (issue) =>
  issue.code === 'invalid_type' && issue.input === undefined ? 'Required' : undefined;

function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

/**
 * Builds a validated CloudEvent of a declared type: data checked by the definition's schema (issues at
 * `data.<field>`, rule = zod issue code), `id` (UUIDv7), `time` (now), `datacontenttype` application/json,
 * `dataschema` urn:keel:schema:<type>:<version>, `partitionkey` (option, else the definition's
 * `partitionKey(data)`), `subject` (option, else the partition key) and the Keel extensions given.
 * Throws a ValidationError listing every issue of the data and the envelope.
 */
export function createEvent<Schema extends z.ZodType>(
  definition: EventDefinition<Schema>,
  data: z.input<Schema>,
  options: CreateEventOptions,
): CloudEvent<z.output<Schema>> {
  const checked = definition.schema.safeParse(data, { error: requiredMessage });
  const issues: ValidationIssue[] = checked.success ? [] : issuesFromZod(checked.error.issues, 'data');
  const partitionKey =
    options.partitionKey ?? (checked.success ? definition.partitionKey?.(checked.data) : undefined);
  let time = options.time ?? new Date();
  if (time instanceof Date) time = Number.isNaN(time.getTime()) ? 'Invalid Date' : time.toISOString();
  // Keel makes specversion, type, datacontenttype, dataschema and (unless given) id valid by
  // construction; only what the caller supplied needs the envelope's checks, which are the costly part.
  const supplied = withoutUndefined({
    id: options.id,
    source: options.source,
    subject: options.subject ?? partitionKey,
    time,
    tenantid: options.tenantId,
    correlationid: options.correlationId,
    causationid: options.causationId,
    partitionkey: partitionKey,
    traceparent: options.traceparent,
  });
  issues.push(...checkSuppliedAttributes(supplied));
  if (issues.length > 0) {
    throw new ValidationError(`invalid ${definition.type} event`, issues, definition.type);
  }
  return {
    specversion: SPEC_VERSION,
    id: newEventId(),
    type: definition.type,
    datacontenttype: JSON_CONTENT_TYPE,
    dataschema: dataschemaFor(definition.type, definition.version),
    ...supplied,
    data: (checked as { data: z.output<Schema> }).data,
  } as CloudEvent<z.output<Schema>>;
}

/**
 * Checks the data of an already-formed event (e.g. received over HTTP) against its definition: the
 * version comes from a Keel `dataschema` (the current one when absent or foreign), older data is upcast,
 * then validated (issues at `data.<field>`). Returns the event with the parsed data, `datacontenttype`
 * application/json when it was absent, and `dataschema` naming the current version.
 * Throws a ValidationError (upcast problems as rules `newer_version`, `missing_upcaster`, ...).
 */
export function validateEventData<Schema extends z.ZodType>(
  definition: EventDefinition<Schema>,
  event: CloudEvent,
): CloudEvent<z.output<Schema>> {
  const envelope = safeParseCloudEvent(event);
  if (!envelope.success) {
    throw new ValidationError(`invalid ${definition.type} event`, envelope.issues, definition.type);
  }
  return validateDecodedEventData(definition, envelope.event);
}

/**
 * `validateEventData` for an event whose envelope was already checked (decoded by a binding, or parsed
 * by `parseCloudEvent`): only the type, version, content type and data are checked.
 */
export function validateDecodedEventData<Schema extends z.ZodType>(
  definition: EventDefinition<Schema>,
  valid: CloudEvent,
): CloudEvent<z.output<Schema>> {
  const fail = (found: ValidationIssue[]) =>
    new ValidationError(`invalid ${definition.type} event`, found, definition.type);
  const issues: ValidationIssue[] = [];
  if (valid.type !== definition.type) {
    issues.push({ path: 'type', rule: 'invalid_value', message: `expected type ${definition.type}` });
  }
  let version = definition.version;
  const named = parseDataschema(valid.dataschema);
  if (named && named.type !== definition.type) {
    issues.push({
      path: 'dataschema',
      rule: 'invalid_value',
      message: `names the schema of ${named.type}, not ${definition.type}`,
    });
  } else if (named) {
    version = named.version;
  }
  const contentType = valid.datacontenttype;
  const json = contentType === undefined || isJsonMediaType(contentType);
  if (!json) {
    issues.push({
      path: 'datacontenttype',
      rule: 'invalid_value',
      message: `${definition.type} data is JSON, not ${contentType}`,
    });
  }
  let data: unknown = valid.data;
  // JSON sent as bytes (data_base64, or a binary body) is still JSON: the content type says so.
  if (json && data instanceof Uint8Array) {
    try {
      data = JSON.parse(utf8Decode(data) ?? '');
    } catch (error) {
      issues.push({ path: 'data', rule: 'malformed_json', message: (error as Error).message });
    }
  }
  if (issues.length > 0) throw fail(issues);

  try {
    data = upcastData(definition, version, data);
  } catch (error) {
    if (!(error instanceof UpcastError)) throw error;
    const path = error.reason === 'upcaster_failed' ? 'data' : 'dataschema';
    throw fail([{ path, rule: error.reason, message: error.message }]);
  }
  const checked = definition.schema.safeParse(data, { error: requiredMessage });
  if (!checked.success) throw fail(issuesFromZod(checked.error.issues, 'data'));
  return {
    ...valid,
    datacontenttype: contentType ?? JSON_CONTENT_TYPE,
    dataschema: dataschemaFor(definition.type, definition.version),
    data: checked.data,
  } as CloudEvent<z.output<Schema>>;
}
