import type { Database } from 'better-sqlite3';
import type { SqliteStreamRow } from './append.ts';
import { EVENT_COLUMNS, type SqliteEventRow } from './event-row.ts';

/** The statements of a stream read. */
export interface SqliteReadStreamStatements {
  stream(streamId: string): SqliteStreamRow | undefined;
  /** Events with version ≥ `fromVersion`, ascending; `limit` -1 is unbounded. */
  forwards(streamId: string, fromVersion: number, limit: number): SqliteEventRow[];
  /** Events with `floor` < version ≤ `fromVersion`, descending; `limit` -1 is unbounded. */
  backwards(streamId: string, fromVersion: number, floor: number, limit: number): SqliteEventRow[];
}

/** Prepares the stream-read statements on one connection. */
export function prepareSqliteReadStream(db: Database): SqliteReadStreamStatements {
  const stream = db
    .prepare<[string], SqliteStreamRow>(
      'SELECT tenant_id, version, deleted_at, deleted_version FROM store_streams WHERE stream_id = ?',
    )
    .safeIntegers(true);
  const forwards = db
    .prepare<[string, number, number], SqliteEventRow>(
      `SELECT ${EVENT_COLUMNS} FROM store_events WHERE stream_id = ? AND version >= ? ORDER BY version LIMIT ?`,
    )
    .safeIntegers(true);
  const backwards = db
    .prepare<[string, number, number, number], SqliteEventRow>(
      `SELECT ${EVENT_COLUMNS} FROM store_events WHERE stream_id = ? AND version <= ? AND version > ?
       ORDER BY version DESC LIMIT ?`,
    )
    .safeIntegers(true);
  return {
    stream: (streamId) => stream.get(streamId),
    forwards: (streamId, fromVersion, limit) => forwards.all(streamId, fromVersion, limit),
    backwards: (streamId, fromVersion, floor, limit) => backwards.all(streamId, fromVersion, floor, limit),
  };
}
