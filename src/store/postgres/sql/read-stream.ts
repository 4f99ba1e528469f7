import { EVENT_COLUMNS } from './event-columns.ts';

/**
 * One stream's page, its current version, its tombstone and (asked) its snapshot in one statement (one
 * snapshot of the database, so they agree). Parameters: $1 stream id, $2 first version (NULL: forwards
 * the first after the snapshot or 1, backwards the last), $3 limit (NULL = all), $4 tenant (NULL = any),
 * $5 snapshot name and $6 its state version (NULL: no snapshot). No row at all when the stream has no
 * events or belongs to another tenant; one row with NULL event columns when the page is empty; no
 * events for a deleted stream. Versions up to `deleted_version` belong to the stream before it was
 * deleted and re-created, and are never returned. A stream's events are read without the commit-order
 * guard of read-all: appends to one stream hold its row lock until they commit, so versions become
 * visible in order.
 */
export function readStreamStatement(schema: string, direction: 'forwards' | 'backwards'): string {
  const page =
    direction === 'forwards'
      ? `e.version >= greatest(coalesce($2::bigint, n.stream_version + 1, 1), s.deleted_version + 1)
         ORDER BY e.version LIMIT $3::bigint`
      : `e.version <= coalesce($2::bigint, s.version) AND e.version > s.deleted_version
         ORDER BY e.version DESC LIMIT $3::bigint`;
  return `SELECT s.version::text, (extract(epoch FROM s.deleted_at) * 1000)::float8, s.deleted_version::text,
      n.stream_version::text, n.state::text, (extract(epoch FROM n.created_at) * 1000)::float8, s.tenant_id,
      ${EVENT_COLUMNS}
    FROM ${schema}.store_streams s
    LEFT JOIN ${schema}.store_snapshots n
      ON n.stream_id = s.stream_id AND n.name = $5::text AND n.state_version = $6::integer
    LEFT JOIN LATERAL (
      SELECT * FROM ${schema}.store_events e
       WHERE e.stream_id = s.stream_id AND s.deleted_at IS NULL AND ${page}
    ) e ON true
    WHERE s.stream_id = $1 AND s.version > 0 AND ($4::text IS NULL OR s.tenant_id = $4::text)`;
}

/** A row of `readStreamStatement` before its event columns. */
export type StreamHeadRow = [
  streamVersion: string,
  deletedAtMs: number | null,
  deletedVersion: string,
  snapshotVersion: string | null,
  snapshotState: string | null,
  snapshotCreatedAtMs: number | null,
  tenantId: string,
];

/** Columns of `StreamHeadRow`, where the event columns start. */
export const STREAM_HEAD_COLUMNS = 7;

/** The stream's owner, version and tombstone, for an append of no events (which checks and writes nothing). */
export function streamStateStatement(schema: string): string {
  return `SELECT tenant_id, version::text, (extract(epoch FROM deleted_at) * 1000)::float8
    FROM ${schema}.store_streams WHERE stream_id = $1 AND version > 0`;
}
