import type { Database } from 'better-sqlite3';
import { numbered } from './numbered.ts';

/** A snapshot row as SQLite returns it (integers as bigint). */
export interface SqliteSnapshotRow {
  stream_version: bigint;
  state_version: bigint;
  state: string;
  tenant_id: string;
  /** Milliseconds since the epoch. */
  created_at: bigint;
}

/** The snapshot statements. */
export interface SqliteSnapshotStatements {
  /** The latest snapshot of `name` for a visible stream (not deleted; the tenant's when given). */
  read(streamId: string, name: string, tenantId: string | null): SqliteSnapshotRow | undefined;
  /** Every snapshot of a visible stream, by name. */
  list(streamId: string, tenantId: string | null): (SqliteSnapshotRow & { name: string })[];
  /** Writes unless a newer one is stored or the stream is not visible or not at that version; true when written. */
  write(
    streamId: string,
    name: string,
    streamVersion: number,
    stateVersion: number,
    state: string,
    tenantId: string | null,
    now: number,
  ): boolean;
}

/** Prepares the snapshot statements on one connection. */
export function prepareSqliteSnapshots(db: Database): SqliteSnapshotStatements {
  const read = db
    .prepare<[Record<number, unknown>], SqliteSnapshotRow>(
      `SELECT n.stream_version, n.state_version, n.state, n.tenant_id, n.created_at
         FROM store_snapshots n JOIN store_streams s ON s.stream_id = n.stream_id
        WHERE n.stream_id = ?1 AND n.name = ?2 AND s.deleted_at IS NULL AND (?3 IS NULL OR s.tenant_id = ?3)`,
    )
    .safeIntegers(true);
  const list = db
    .prepare<[Record<number, unknown>], SqliteSnapshotRow & { name: string }>(
      `SELECT n.name, n.stream_version, n.state_version, n.state, n.tenant_id, n.created_at
         FROM store_snapshots n JOIN store_streams s ON s.stream_id = n.stream_id
        WHERE n.stream_id = ?1 AND s.deleted_at IS NULL AND (?2 IS NULL OR s.tenant_id = ?2)
        ORDER BY n.name`,
    )
    .safeIntegers(true);
  const write = db.prepare(
    `INSERT INTO store_snapshots (stream_id, name, tenant_id, stream_version, state_version, state, created_at)
     SELECT s.stream_id, ?2, s.tenant_id, ?3, ?4, ?5, ?7 FROM store_streams s
      WHERE s.stream_id = ?1 AND s.deleted_at IS NULL AND s.version >= ?3 AND s.deleted_version < ?3
        AND (?6 IS NULL OR s.tenant_id = ?6)
     ON CONFLICT (stream_id, name) DO UPDATE
       SET stream_version = excluded.stream_version, state_version = excluded.state_version,
           state = excluded.state, created_at = excluded.created_at
       WHERE store_snapshots.stream_version <= excluded.stream_version`,
  );
  return {
    read: (streamId, name, tenantId) => read.get(numbered(streamId, name, tenantId)),
    list: (streamId, tenantId) => list.all(numbered(streamId, tenantId)),
    write: (streamId, name, streamVersion, stateVersion, state, tenantId, now) =>
      write.run(numbered(streamId, name, streamVersion, stateVersion, state, tenantId, now)).changes > 0,
  };
}
