import { EVENT_COLUMNS } from './event-columns.ts';

/** One event by its CloudEvents id (the `event_id` unique index): $1 event id, $2 tenant (NULL = any). */
export function readEventStatement(schema: string): string {
  return `SELECT ${EVENT_COLUMNS} FROM ${schema}.store_events e
    WHERE e.event_id = $1 AND ($2::text IS NULL OR e.tenant_id = $2::text)`;
}
