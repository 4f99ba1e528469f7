import type { Database, Statement } from 'better-sqlite3';
import type { EventFilter } from '../../event-store.ts';
import { EVENT_COLUMNS, type SqliteEventRow } from './event-row.ts';

/** A read-all query: the filter, the position to read after, and the page size. */
export interface SqliteReadAllQuery extends EventFilter {
  afterPosition: bigint;
  maxCount: number;
}

/**
 * Reads events after a position, in position order. SQLite has one writer at a time and a position is
 * taken inside the write transaction, so positions commit in order: a reader that has seen position n has
 * seen every committed event below n, and `position > checkpoint` is gap-free here (unlike on PostgreSQL).
 */
export type SqliteReadAll = (query: SqliteReadAllQuery) => SqliteEventRow[];

/** Prepares read-all on one connection; one statement per combination of filters, prepared on first use. */
export function prepareSqliteReadAll(db: Database): SqliteReadAll {
  const statements = new Map<string, Statement<unknown[], SqliteEventRow>>();
  return (query) => {
    const conditions = ['position > ?'];
    const params: unknown[] = [query.afterPosition];
    if (query.types !== undefined) {
      conditions.push('type IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(query.types));
    }
    if (query.tenantId !== undefined) {
      conditions.push('tenant_id = ?');
      params.push(query.tenantId);
    }
    if (query.correlationId !== undefined) {
      conditions.push('correlation_id = ?');
      params.push(query.correlationId);
    }
    if (query.streamPrefix !== undefined) {
      // substr, not LIKE: a prefix is matched exactly, '%' and '_' included.
      conditions.push('substr(stream_id, 1, length(?)) = ?');
      params.push(query.streamPrefix, query.streamPrefix);
    }
    if (query.since !== undefined) {
      conditions.push('recorded_at >= ?');
      params.push(query.since.getTime());
    }
    if (query.until !== undefined) {
      conditions.push('recorded_at < ?');
      params.push(query.until.getTime());
    }
    if (query.fromPosition !== undefined) {
      conditions.push('position >= ?');
      params.push(query.fromPosition);
    }
    const where = conditions.join(' AND ');
    let statement = statements.get(where);
    if (statement === undefined) {
      statement = db
        .prepare<unknown[], SqliteEventRow>(
          `SELECT ${EVENT_COLUMNS} FROM store_events WHERE ${where} ORDER BY position LIMIT ?`,
        )
        .safeIntegers(true);
      statements.set(where, statement);
    }
    return statement.all(...params, query.maxCount);
  };
}
