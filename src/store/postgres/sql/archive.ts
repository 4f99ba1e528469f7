/**
 * The oldest events recorded before a date, locked for removal, in position order, as stored (not
 * upcast). Parameters: $1 before (timestamptz), $2 limit, $3 tenant (NULL = all), $4 stream prefix
 * (NULL = all). SKIP LOCKED is not used: an event another archive run holds is waited for, not skipped,
 * so two runs cannot both export it.
 */
export function archiveBatchStatement(schema: string): string {
  return `SELECT e.position::text, e.stream_id, e.version::text, e.tenant_id,
      (extract(epoch FROM e.recorded_at) * 1000)::float8, e.event::text
    FROM ${schema}.store_events e
   WHERE e.recorded_at < $1::timestamptz AND ($3::text IS NULL OR e.tenant_id = $3::text)
     AND ($4::text IS NULL OR starts_with(e.stream_id, $4::text))
   ORDER BY e.position LIMIT $2::bigint
   FOR UPDATE`;
}

/** A row of `archiveBatchStatement`. */
export type ArchiveRow = [
  position: string,
  streamId: string,
  version: string,
  tenantId: string,
  recordedAtMs: number,
  json: string,
];

/** Removes the archived events. Parameters: $1 positions (text[]). Returns how many rows it removed. */
export function removeArchivedStatement(schema: string): string {
  return `WITH removed AS (
      DELETE FROM ${schema}.store_events WHERE position = ANY ($1::bigint[]) RETURNING 1
    ) SELECT count(*)::integer FROM removed`;
}

/** Removes outbox rows sent before the date: they were published, and the date says they are old. $1 before. */
export function purgeSentOutboxStatement(schema: string): string {
  return `DELETE FROM ${schema}.store_outbox WHERE sent_at IS NOT NULL AND sent_at < $1::timestamptz`;
}
