import { z } from 'zod';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { decodeDataBytes } from '../../events/data-encoding.ts';
import { fromRecord } from '../../events/kafka-binding.ts';
import type { MatchingReadRequest, StoredRecord, ValueCondition } from '../../transport/transport.ts';
import { RequestInvalidError } from '../api/errors.ts';
import { compileCelFilter, MAX_CEL_LENGTH } from './cel-filter.ts';
import { type DataCondition, meetsCondition, parseDataCondition } from './data-condition.ts';

/**
 * The message filter shared by the API's message lists: every field given must match (AND). Nothing in
 * it runs as JavaScript: `where` conditions are data, and `cel` is read by a CEL interpreter that sees only
 * the record's variables (never `eval`, no access to the process or to prototypes).
 */
export const messageFilterSchema = z.strictObject({
  type: z.string().min(1).optional().describe('CloudEvents `type`, exactly.'),
  subject: z.string().min(1).optional().describe('CloudEvents `subject`, exactly.'),
  key: z.string().min(1).optional().describe('Record key (the partition key), exactly.'),
  correlationId: z.string().min(1).optional().describe('The `correlationid` extension, exactly.'),
  tenant: z.string().min(1).optional().describe('The `tenantid` extension, exactly.'),
  since: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('Records appended at or after this time (ISO 8601).'),
  until: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('Records appended before this time (ISO 8601).'),
  cel: z
    .string()
    .min(1)
    .max(MAX_CEL_LENGTH)
    .optional()
    .describe(
      'A CEL expression (Common Expression Language: no loops, no side effects) that must be true, over ' +
        '`event` (attributes and `event.data`), `data`, `key`, `partition`, `offset` and `timestamp` (ms), ' +
        'e.g. `data.vitals.heartRate > 120 && event.subject.startsWith("p-")`. A record it cannot be ' +
        'evaluated on (a missing field) does not match.',
    ),
  where: z
    .union([z.string().min(1), z.array(z.string().min(1))])
    .optional()
    .describe(
      'Conditions on the event, all must hold; repeat for several. `<path><op><value>`: a path such as ' +
        '`data.vitals.heartRate` or `data.items[0].code`, an operator `==` `!=` `>` `>=` `<` `<=` `~=` ' +
        '(contains), a JSON literal or bare text, e.g. `data.status=="admitted"`, `data.age>=65`.',
    ),
});

/** A filter as parsed from a query. */
export type MessageFilter = z.output<typeof messageFilterSchema>;

/** A record's CloudEvents attributes: from `ce_` headers (binary mode) or the decoded value (structured). */
export function attributeOf(
  record: StoredRecord,
  name: string,
  decoded: () => CloudEvent | undefined,
): unknown {
  const header = record.headers[`ce_${name}`];
  if (header !== undefined) return header;
  return record.headers.ce_specversion === undefined ? decoded()?.[name] : undefined;
}

/** The `tenantid` of a record's event; undefined when it has none (or is not an event). */
export function tenantOfRecord(record: StoredRecord): string | undefined {
  const tenant = attributeOf(record, 'tenantid', () => decodeRecord(record));
  return typeof tenant === 'string' ? tenant : undefined;
}

/** Decodes a record into its CloudEvent, or undefined when it is not one (a poison pill, a foreign record). */
export function decodeRecord(record: StoredRecord): CloudEvent | undefined {
  try {
    return fromRecord(record);
  } catch {
    return undefined;
  }
}

/**
 * The event a filter looks at: for a binary-mode record (the Publisher's), its `ce_` attributes and its
 * data decoded — without checking the envelope, which the filter does not need and which costs most of a
 * full decode; for any other record, the full decode. Undefined when the data does not decode.
 */
export function filterView(record: StoredRecord): Record<string, unknown> | undefined {
  if (record.headers.ce_specversion === undefined)
    return decodeRecord(record) as Record<string, unknown> | undefined;
  const view: Record<string, unknown> = {};
  for (const name in record.headers) {
    if (name.startsWith('ce_')) view[name.slice(3)] = record.headers[name];
  }
  const contentType = record.headers['content-type'];
  if (contentType !== undefined) view.datacontenttype = contentType;
  if (record.value !== null) {
    const decoded = decodeDataBytes(record.value, contentType);
    if (decoded.issue) return undefined;
    view.data = decoded.data;
  }
  return view;
}

/**
 * Compiles a filter into a predicate over records; undefined when the filter is empty. A time range that
 * ends before it starts is refused (422) naming `<part>.until`; a `where` that does not parse (400) says where.
 */
export function compileMessageFilter(
  filter: MessageFilter,
  /** Request part the filter came in, to name fields (`query.until`, `body.where`). */
  part: 'query' | 'body' = 'query',
): ((record: StoredRecord) => boolean) | undefined {
  const since = filter.since === undefined ? undefined : Date.parse(filter.since);
  const until = filter.until === undefined ? undefined : Date.parse(filter.until);
  if (since !== undefined && until !== undefined && until <= since) {
    throw new RequestInvalidError(
      [{ path: `${part}.until`, rule: 'after_since', message: 'must be later than `since`' }],
      422,
    );
  }
  const exact: [string, string][] = [];
  if (filter.type !== undefined) exact.push(['type', filter.type]);
  if (filter.subject !== undefined) exact.push(['subject', filter.subject]);
  if (filter.correlationId !== undefined) exact.push(['correlationid', filter.correlationId]);
  if (filter.tenant !== undefined) exact.push(['tenantid', filter.tenant]);
  const key = filter.key;
  const conditions = conditionsOf(filter.where, part);
  const cel = filter.cel === undefined ? undefined : compileCelFilter(filter.cel, `${part}.cel`);
  if (
    exact.length === 0 &&
    conditions.length === 0 &&
    cel === undefined &&
    key === undefined &&
    since === undefined &&
    until === undefined
  ) {
    return undefined;
  }
  return (record) => {
    if (key !== undefined && record.key !== key) return false;
    if (since !== undefined && record.timestamp < since) return false;
    if (until !== undefined && record.timestamp >= until) return false;
    let event: CloudEvent | undefined | null = null;
    const decoded = () => {
      if (event === null) event = decodeRecord(record);
      return event;
    };
    let view: Record<string, unknown> | undefined | null = null;
    const viewed = () => {
      if (view === null) view = filterView(record);
      return view;
    };
    return (
      exact.every(([name, value]) => attributeOf(record, name, decoded) === value) &&
      (conditions.length === 0 || conditionsHold(viewed(), conditions)) &&
      (cel === undefined || cel(record, viewed))
    );
  };
}

/** Whether every condition holds on the event's view. */
function conditionsHold(
  view: Record<string, unknown> | undefined,
  conditions: readonly DataCondition[],
): boolean {
  return conditions.every((condition) => meetsCondition(view, condition));
}

/** The `where` conditions, parsed; each error names `<part>.where` (and its position when repeated). */
function conditionsOf(where: string | string[] | undefined, part: 'query' | 'body'): DataCondition[] {
  if (where === undefined) return [];
  if (typeof where === 'string') return [parseDataCondition(where, `${part}.where`)];
  return where.map((text, i) => parseDataCondition(text, `${part}.where.${i}`));
}

/**
 * What of a filter a transport can check where it keeps the records (`readMatching`): the key, and the
 * `where` conditions on `data` as conditions on a binary-mode record's value (its data); undefined when
 * there is nothing to hand over. The compiled filter still decides on every record handed back.
 */
export function messagePrefilter(
  filter: MessageFilter,
): Pick<MatchingReadRequest, 'conditions' | 'whenHeader' | 'key'> | undefined {
  const conditions: ValueCondition[] = [];
  for (const condition of conditionsOf(filter.where, 'query')) {
    if (condition.path[0] !== 'data' || condition.path.length < 2) continue;
    const value = condition.value;
    if (value !== null && !['string', 'number', 'boolean'].includes(typeof value)) continue;
    conditions.push({
      path: condition.path.slice(1),
      operator: condition.operator,
      value: value as ValueCondition['value'],
    });
  }
  if (conditions.length === 0 && filter.key === undefined) return undefined;
  return {
    conditions,
    // Structured-mode records hold the whole event in their value: only binary-mode ones hold the data.
    whenHeader: 'ce_specversion',
    ...(filter.key === undefined ? {} : { key: filter.key }),
  };
}
