import type { Database, Statement } from 'better-sqlite3';
import type { EventFilter } from '../../event-store.ts';
import { EVENT_COLUMNS, type SqliteEventRow } from './event-row.ts';

/** A read-all query: the filter, the positions to read after and up to, and the page size. */
export interface SqliteReadAllQuery extends EventFilter {
  afterPosition: bigint;
  /** Read nothing past this position (inclusive). */
  endAtPosition: bigint;
  maxCount: number;
}

/** The statements of read-all and count. */
export interface SqliteReadAll {
  /**
   * Events after a position, in position order. SQLite has one writer at a time and a position is taken
   * inside the write transaction, so positions commit in order: a reader that has seen position n has
   * seen every committed event below n, and `position > checkpoint` is gap-free here (unlike on PostgreSQL).
   */
  page(query: SqliteReadAllQuery): SqliteEventRow[];
  /** How many events a read over the same range and filter would return. */
  count(query: Omit<SqliteReadAllQuery, 'maxCount'>): number;
  /**
   * The highest position ever given (AUTOINCREMENT's counter, so it survives archiving), 0 when none.
   * Read before a page, it bounds what the page may look at, so a page that is not full has seen all
   * of it and a filtered reader may resume from there.
   */
  head(): bigint;
}

function conditions(query: Omit<SqliteReadAllQuery, 'maxCount'>): { where: string; params: unknown[] } {
  const where = ['position > ?', 'position <= ?'];
  const params: unknown[] = [query.afterPosition, query.endAtPosition];
  if (query.types !== undefined) {
    where.push('type IN (SELECT value FROM json_each(?))');
    params.push(JSON.stringify(query.types));
  }
  if (query.tenantId !== undefined) {
    where.push('tenant_id = ?');
    params.push(query.tenantId);
  }
  if (query.correlationId !== undefined) {
    where.push('correlation_id = ?');
    params.push(query.correlationId);
  }
  if (query.streamPrefix !== undefined) {
    // substr, not LIKE: a prefix is matched exactly, '%' and '_' included.
    where.push('substr(stream_id, 1, length(?)) = ?');
    params.push(query.streamPrefix, query.streamPrefix);
  }
  if (query.since !== undefined) {
    where.push('recorded_at >= ?');
    params.push(query.since.getTime());
  }
  if (query.until !== undefined) {
    where.push('recorded_at < ?');
    params.push(query.until.getTime());
  }
  if (query.fromPosition !== undefined) {
    where.push('position >= ?');
    params.push(query.fromPosition);
  }
  return { where: where.join(' AND '), params };
}

/** Prepares read-all on one connection; one statement per combination of filters, prepared on first use. */
export function prepareSqliteReadAll(db: Database): SqliteReadAll {
  const pages = new Map<string, Statement<unknown[], SqliteEventRow>>();
  const counts = new Map<string, Statement<unknown[], number>>();
  const head = db
    .prepare<[], bigint>("SELECT seq FROM sqlite_sequence WHERE name = 'store_events'")
    .pluck()
    .safeIntegers(true);
  return {
    page(query) {
      const { where, params } = conditions(query);
      let statement = pages.get(where);
      if (statement === undefined) {
        statement = db
          .prepare<unknown[], SqliteEventRow>(
            `SELECT ${EVENT_COLUMNS} FROM store_events WHERE ${where} ORDER BY position LIMIT ?`,
          )
          .safeIntegers(true);
        pages.set(where, statement);
      }
      return statement.all(...params, query.maxCount);
    },
    count(query) {
      const { where, params } = conditions(query);
      let statement = counts.get(where);
      if (statement === undefined) {
        statement = db.prepare<unknown[], number>(`SELECT count(*) FROM store_events WHERE ${where}`).pluck();
        counts.set(where, statement);
      }
      return statement.get(...params) ?? 0;
    },
    head: () => head.get() ?? 0n,
  };
}
