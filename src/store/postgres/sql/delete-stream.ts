/**
 * Tombstones a stream, in one transaction with `lockStreamStatement` before it: sets `deleted_at` and
 * `deleted_version` (a re-created stream hides the versions up to it) and removes the stream's
 * snapshots, which describe the deleted state. Parameters: $1 stream id. Returns the tombstone.
 */
export function deleteStreamStatement(schema: string): string {
  return `WITH tombstone AS (
      UPDATE ${schema}.store_streams SET deleted_at = now(), deleted_version = version, updated_at = now()
       WHERE stream_id = $1 RETURNING version, deleted_at
    ), forgotten AS (
      DELETE FROM ${schema}.store_snapshots WHERE stream_id = $1
    )
    SELECT version::text, (extract(epoch FROM deleted_at) * 1000)::float8 FROM tombstone`;
}

/** Locks a stream's row (appends to it wait) and reads its owner, version and tombstone. Parameters: $1 stream id. */
export function lockStreamStatement(schema: string): string {
  return `SELECT tenant_id, version::text, (extract(epoch FROM deleted_at) * 1000)::float8
    FROM ${schema}.store_streams WHERE stream_id = $1 AND version > 0 FOR UPDATE`;
}
