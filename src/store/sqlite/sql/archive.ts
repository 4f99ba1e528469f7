import type { Database } from 'better-sqlite3';
import { EVENT_COLUMNS, type SqliteEventRow } from './event-row.ts';
import { numbered } from './numbered.ts';

/** The archive statements, run inside one write transaction per batch. */
export interface SqliteArchiveStatements {
  /** The oldest events recorded before `before` (epoch ms), in position order. */
  batch(
    before: number,
    limit: number,
    tenantId: string | null,
    streamPrefix: string | null,
  ): SqliteEventRow[];
  /** Removes events by position; returns how many rows it removed. */
  remove(positions: readonly bigint[]): number;
}

/** Prepares the archive statements on one connection. */
export function prepareSqliteArchive(db: Database): SqliteArchiveStatements {
  const batch = db
    .prepare<[Record<number, unknown>], SqliteEventRow>(
      `SELECT ${EVENT_COLUMNS} FROM store_events
        WHERE recorded_at < ?1 AND (?3 IS NULL OR tenant_id = ?3)
          AND (?4 IS NULL OR substr(stream_id, 1, length(?4)) = ?4)
        ORDER BY position LIMIT ?2`,
    )
    .safeIntegers(true);
  const remove = db.prepare('DELETE FROM store_events WHERE position IN (SELECT value FROM json_each(?))');
  return {
    batch: (before, limit, tenantId, streamPrefix) =>
      batch.all(numbered(before, limit, tenantId, streamPrefix)),
    remove: (positions) => remove.run(`[${positions.join(',')}]`).changes,
  };
}
