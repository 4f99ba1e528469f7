import type { EventFilter } from '../../event-store.ts';
import { EVENT_COLUMNS } from './event-columns.ts';

/** Where a gap-free read resumes: after this (transaction id, position) pair. */
export interface CommitCursor {
  /** `pg_current_xact_id()` of the transaction that wrote the last event read (decimal text). */
  transactionId: string;
  /** Its global position (decimal text). */
  position: string;
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
 * pass an event that becomes visible later. The horizon and the rows come from one statement, so from
 * one snapshot. Cost: readers wait for the oldest running writing transaction (of the whole cluster).
 */
export function readAllStatement(
  schema: string,
  filter: EventFilter,
  after: CommitCursor,
  limit: number,
): { text: string; params: unknown[] } {
  const params: unknown[] = [after.transactionId, after.position];
  const conditions = [
    'e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())',
    '(e.transaction_id, e.position) > ($1::xid8, $2::bigint)',
  ];
  const add = (sql: (p: string) => string, value: unknown): void => {
    params.push(value);
    conditions.push(sql(`$${params.length}`));
  };
  if (filter.types !== undefined) add((p) => `e.type = ANY (${p}::text[])`, filter.types);
  if (filter.tenantId !== undefined) add((p) => `e.tenant_id = ${p}::text`, filter.tenantId);
  if (filter.correlationId !== undefined) add((p) => `e.correlation_id = ${p}::text`, filter.correlationId);
  // starts_with, not LIKE: a prefix is matched exactly, '%' and '_' included.
  if (filter.streamPrefix !== undefined)
    add((p) => `starts_with(e.stream_id, ${p}::text)`, filter.streamPrefix);
  if (filter.since !== undefined)
    add((p) => `e.recorded_at >= ${p}::timestamptz`, filter.since.toISOString());
  if (filter.until !== undefined) add((p) => `e.recorded_at < ${p}::timestamptz`, filter.until.toISOString());
  if (filter.fromPosition !== undefined)
    add((p) => `e.position >= ${p}::bigint`, String(filter.fromPosition));
  params.push(limit);
  return {
    text: `SELECT ${EVENT_COLUMNS} FROM ${schema}.store_events e
      WHERE ${conditions.join(' AND ')}
      ORDER BY e.transaction_id, e.position LIMIT $${params.length}::bigint`,
    params,
  };
}
