/** Unsent outbox rows, oldest first. Parameters: $1 limit, $2 tenant (NULL = all). */
export function pendingOutboxStatement(schema: string): string {
  return `SELECT o.id::text, o.stream_id, o.version::text, o.position::text, o.tenant_id, o.topic, o.event::text
    FROM ${schema}.store_outbox o
   WHERE o.sent_at IS NULL AND ($2::text IS NULL OR o.tenant_id = $2::text)
   ORDER BY o.id LIMIT $1::bigint`;
}

/** A row of `pendingOutboxStatement`. */
export type OutboxRow = [
  id: string,
  streamId: string,
  version: string,
  position: string,
  tenantId: string,
  topic: string | null,
  json: string,
];

/** Marks rows sent. Parameters: $1 ids (text[]), $2 tenant (NULL = all). Returns how many were pending. */
export function markSentStatement(schema: string): string {
  return `WITH sent AS (
      UPDATE ${schema}.store_outbox SET sent_at = now()
       WHERE id = ANY ($1::bigint[]) AND sent_at IS NULL AND ($2::text IS NULL OR tenant_id = $2::text)
       RETURNING 1
    ) SELECT count(*)::integer FROM sent`;
}

/** Unsent rows. Parameters: $1 tenant (NULL = all). */
export function pendingCountStatement(schema: string): string {
  return `SELECT count(*)::integer FROM ${schema}.store_outbox
    WHERE sent_at IS NULL AND ($1::text IS NULL OR tenant_id = $1::text)`;
}

/**
 * Takes or confirms the relay's session advisory lock, on the lease's own connection: true when this
 * session holds it. `pg_try_advisory_lock` stacks when called again by the holder, so a holder only
 * checks `pg_locks`. The lock lives as long as the session: if the process or its connection dies, the
 * server releases it and a standby's next call takes it. Parameters: $1, $2 the two int4 lock keys.
 */
export const ACQUIRE_LEASE = `SELECT EXISTS (
    SELECT 1 FROM pg_locks
     WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
       AND classid = ($1::int4)::oid AND objid = ($2::int4)::oid AND objsubid = 2
  ) OR pg_try_advisory_lock($1::int4, $2::int4)`;

/** Releases the lease (every stacked hold of it). Parameters: $1, $2 the lock keys. */
export const RELEASE_LEASE = `SELECT pg_advisory_unlock($1::int4, $2::int4)`;

/** The two int4 keys of a lease's advisory lock: Keel's outbox namespace and the store schema plus name. */
export const LEASE_KEYS = `SELECT hashtext('keel.store.outbox-relay'), hashtext($1)`;
