/**
 * The stream's latest snapshot of one aggregate type, whatever its state version. Parameters: $1 stream
 * id, $2 name, $3 tenant (NULL = any). The stream must be visible (not deleted, the tenant's).
 */
export function readSnapshotStatement(schema: string): string {
  return `SELECT n.stream_version::text, n.state_version, n.state::text, n.tenant_id,
      (extract(epoch FROM n.created_at) * 1000)::float8
    FROM ${schema}.store_snapshots n
    JOIN ${schema}.store_streams s ON s.stream_id = n.stream_id
   WHERE n.stream_id = $1 AND n.name = $2 AND s.deleted_at IS NULL AND ($3::text IS NULL OR s.tenant_id = $3::text)`;
}

/** Every snapshot of a visible stream, by name: $1 stream id, $2 tenant (NULL = any); rows are the name then a `SnapshotRow`. */
export function listSnapshotsStatement(schema: string): string {
  return `SELECT n.name, n.stream_version::text, n.state_version, n.state::text, n.tenant_id,
      (extract(epoch FROM n.created_at) * 1000)::float8
    FROM ${schema}.store_snapshots n
    JOIN ${schema}.store_streams s ON s.stream_id = n.stream_id
   WHERE n.stream_id = $1 AND s.deleted_at IS NULL AND ($2::text IS NULL OR s.tenant_id = $2::text)
   ORDER BY n.name`;
}

/** A row of `readSnapshotStatement`. */
export type SnapshotRow = [
  streamVersion: string,
  stateVersion: number,
  state: string,
  tenantId: string,
  createdAtMs: number,
];

/**
 * Writes a snapshot unless a newer one of that name is stored; only for a visible stream (not deleted,
 * the tenant's when $6 is given) that has reached its version. Parameters: $1 stream id, $2 name, $3
 * stream version, $4 state version, $5 state JSON, $6 tenant (NULL = any). Returns a row when written.
 */
export function writeSnapshotStatement(schema: string): string {
  return `INSERT INTO ${schema}.store_snapshots AS n (stream_id, name, tenant_id, stream_version, state_version, state)
    SELECT s.stream_id, $2, s.tenant_id, $3::bigint, $4::integer, $5::text::json
      FROM ${schema}.store_streams s
     WHERE s.stream_id = $1 AND s.deleted_at IS NULL AND s.version >= $3::bigint AND s.deleted_version < $3::bigint
       AND ($6::text IS NULL OR s.tenant_id = $6::text)
    ON CONFLICT (stream_id, name) DO UPDATE
      SET stream_version = excluded.stream_version, state_version = excluded.state_version,
          state = excluded.state, created_at = now()
      WHERE n.stream_version <= excluded.stream_version
    RETURNING 1`;
}
