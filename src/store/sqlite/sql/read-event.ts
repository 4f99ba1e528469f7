import type { Database } from 'better-sqlite3';
import { EVENT_COLUMNS, type SqliteEventRow } from './event-row.ts';
import { numbered } from './numbered.ts';

/** Reads one event by its CloudEvents id (unique in the store), the tenant's when given. */
export type SqliteReadEvent = (eventId: string, tenantId: string | null) => SqliteEventRow | undefined;

/** Prepares `readEvent` on one connection (the `event_id` unique index answers it). */
export function prepareSqliteReadEvent(db: Database): SqliteReadEvent {
  const statement = db
    .prepare<[Record<number, unknown>], SqliteEventRow>(
      `SELECT ${EVENT_COLUMNS} FROM store_events WHERE event_id = ?1 AND (?2 IS NULL OR tenant_id = ?2)`,
    )
    .safeIntegers(true);
  return (eventId, tenantId) => statement.get(numbered(eventId, tenantId));
}
