import type { Database, Statement } from 'better-sqlite3';
import type { StreamListQuery } from '../../store-queries.ts';

/** A stream row as `listStreams` reads it (integers as bigint, times in ms since the epoch). */
export interface SqliteStreamRow {
  stream_id: string;
  tenant_id: string;
  version: bigint;
  created_at: bigint;
  updated_at: bigint;
  deleted_at: bigint | null;
}

/** Lists streams in id order; one statement per combination of filters, prepared on first use. */
export type SqliteListStreams = (query: StreamListQuery) => SqliteStreamRow[];

function conditions(query: StreamListQuery): { where: string; params: unknown[] } {
  const where = ['s.version > 0'];
  const params: unknown[] = [];
  if (!query.includeDeleted) where.push('s.deleted_at IS NULL');
  if (query.after !== undefined) {
    where.push('s.stream_id > ?');
    params.push(query.after);
  }
  if (query.tenantId !== undefined) {
    where.push('s.tenant_id = ?');
    params.push(query.tenantId);
  }
  if (query.streamPrefix !== undefined) {
    // substr, not LIKE: a prefix is matched exactly, '%' and '_' included.
    where.push('substr(s.stream_id, 1, length(?)) = ?');
    params.push(query.streamPrefix, query.streamPrefix);
  }
  if (query.types !== undefined) {
    where.push(
      'EXISTS (SELECT 1 FROM store_events e WHERE e.stream_id = s.stream_id AND e.type IN (SELECT value FROM json_each(?)))',
    );
    params.push(JSON.stringify(query.types));
  }
  return { where: where.join(' AND '), params };
}

/** Prepares `listStreams` on one connection. */
export function prepareSqliteListStreams(db: Database): SqliteListStreams {
  const statements = new Map<string, Statement<unknown[], SqliteStreamRow>>();
  return (query) => {
    const { where, params } = conditions(query);
    let statement = statements.get(where);
    if (statement === undefined) {
      statement = db
        .prepare<unknown[], SqliteStreamRow>(
          `SELECT s.stream_id, s.tenant_id, s.version, s.created_at, s.updated_at, s.deleted_at
             FROM store_streams s WHERE ${where} ORDER BY s.stream_id LIMIT ?`,
        )
        .safeIntegers(true);
      statements.set(where, statement);
    }
    return statement.all(...params, query.maxCount);
  };
}
