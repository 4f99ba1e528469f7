import { DEFAULT_TENANT, type EventFilter } from '../../event-store.ts';
import { EVENT_COLUMNS } from './event-columns.ts';

/** Where a gap-free read resumes: after this (transaction id, position) pair. */
export interface CommitCursor {
  /** `pg_current_xact_id()` of the transaction that wrote the last event read (decimal text). */
  transactionId: string;
  /** Its global position (decimal text). */
  position: string;
}

/** A range of the commit order: after one cursor, up to another (inclusive). */
export interface CursorRange {
  after: CommitCursor;
  endAt: CommitCursor | undefined;
}

/** The horizon: rows of transactions older than every transaction still running are safe to read. */
const SAFE = 'e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())';

function conditions(filter: EventFilter, range: CursorRange): { where: string[]; params: unknown[] } {
  const params: unknown[] = [range.after.transactionId, range.after.position];
  const where = [SAFE, '(e.transaction_id, e.position) > ($1::xid8, $2::bigint)'];
  const add = (sql: (p: string) => string, value: unknown): void => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (range.endAt !== undefined) {
    params.push(range.endAt.transactionId, range.endAt.position);
    where.push(`(e.transaction_id, e.position) <= ($${params.length - 1}::xid8, $${params.length}::bigint)`);
  }
  if (filter.types !== undefined) add((p) => `e.type = ANY (${p}::text[])`, filter.types);
  if (filter.tenantId !== undefined) {
    add((p) => `e.tenant_id = ${p}::text`, filter.tenantId);
    // Spelled out so the planner may use the partial tenant index, which leaves the default tenant out.
    if (filter.tenantId !== DEFAULT_TENANT) where.push(`e.tenant_id <> '${DEFAULT_TENANT}'`);
  }
  if (filter.correlationId !== undefined) add((p) => `e.correlation_id = ${p}::text`, filter.correlationId);
  // starts_with, not LIKE: a prefix is matched exactly, '%' and '_' included.
  if (filter.streamPrefix !== undefined)
    add((p) => `starts_with(e.stream_id, ${p}::text)`, filter.streamPrefix);
  if (filter.since !== undefined)
    add((p) => `e.recorded_at >= ${p}::timestamptz`, filter.since.toISOString());
  if (filter.until !== undefined) add((p) => `e.recorded_at < ${p}::timestamptz`, filter.until.toISOString());
  if (filter.fromPosition !== undefined)
    add((p) => `e.position >= ${p}::bigint`, String(filter.fromPosition));
  return { where, params };
}

/**
 * Read-all in commit-safe order, gap-free for readers that resume from a cursor.
 *
 * A position comes from a sequence when the row is inserted, but transactions commit in any order, so
 * `position > checkpoint` skips an event whose transaction took a lower position and committed after the
 * reader passed it. Instead each row records its writer's transaction id, and a reader only reads rows of
 * transactions older than every transaction still running: `transaction_id < pg_snapshot_xmin(
 * pg_current_snapshot())`. Such transactions have all ended, so all their rows are visible now and no
 * later transaction can get an id below that horizon. Ordering and resuming by (transaction_id, position)
 * — never by position alone, since a transaction with a lower id can hold higher positions — then cannot
 * pass an event that becomes visible later. Cost: readers wait for the oldest running writing
 * transaction (of the whole cluster).
 *
 * Each result row starts with the head: the greatest (transaction id, position) below the horizon, from
 * the same statement and so the same snapshot as the page. A page that is not full has looked at every
 * row up to the head, so a filtered reader may resume from there instead of scanning the rows its
 * filter skipped again; the head comes from the commit-order index, starting right below the horizon
 * (for a tenant's read, from that tenant's index: see below). One row with NULL event columns when the page is empty.
 */
export function readAllStatement(
  schema: string,
  filter: EventFilter,
  range: CursorRange,
  limit: number,
): { text: string; params: unknown[] } {
  const { where, params } = conditions(filter, range);
  // A tenant's read (under row-level security, which hides other tenants' rows from the head too) takes
  // the head of that tenant's rows from its index: the last of its rows below the horizon, which is as good
  // a place to resume as any (every row up to it was looked at). Not for the default tenant: no index.
  let headOfTenant = '';
  if (filter.tenantId !== undefined && filter.tenantId !== DEFAULT_TENANT) {
    params.push(filter.tenantId);
    headOfTenant = ` AND e.tenant_id = $${params.length}::text AND e.tenant_id <> '${DEFAULT_TENANT}'`;
  }
  params.push(limit);
  return {
    text: `SELECT h.transaction_id::text, h.position::text, p.*
      FROM (SELECT NULL) one
      LEFT JOIN LATERAL (
        SELECT e.transaction_id, e.position FROM ${schema}.store_events e WHERE ${SAFE}${headOfTenant}
         ORDER BY e.transaction_id DESC, e.position DESC LIMIT 1
      ) h ON true
      LEFT JOIN LATERAL (
        SELECT ${EVENT_COLUMNS} FROM ${schema}.store_events e
         WHERE ${where.join(' AND ')}
         ORDER BY e.transaction_id, e.position LIMIT $${params.length}::bigint
      ) p ON true`,
    params,
  };
}

/** Columns before the event columns in a `readAllStatement` row: the head's transaction id and position. */
export const READ_ALL_HEAD_COLUMNS = 2;

/** Counts what a read-all over the range with the filter would return, from one snapshot. */
export function countStatement(
  schema: string,
  filter: EventFilter,
  range: CursorRange,
): { text: string; params: unknown[] } {
  const { where, params } = conditions(filter, range);
  return {
    text: `SELECT count(*)::text FROM ${schema}.store_events e WHERE ${where.join(' AND ')}`,
    params,
  };
}

/** The greatest (transaction id, position) readers can read now; no row when there is none. */
export function headStatement(schema: string): string {
  return `SELECT e.transaction_id::text, e.position::text FROM ${schema}.store_events e WHERE ${SAFE}
    ORDER BY e.transaction_id DESC, e.position DESC LIMIT 1`;
}
