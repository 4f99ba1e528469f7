/**
 * Leases up to @limit due instances of the known definitions to @owner. A row is due when its timer
 * passed or its lease ran out (a claim sets wake_at to the lease's end, so a dead holder's rows come due).
 * SQLite has one writer at a time, so no two claims can take one row.
 */
export const CLAIM = `
  UPDATE workflow_instances
  SET lease_owner = @owner, lease_until = @until, wake_at = @until, lease_epoch = lease_epoch + 1
  WHERE instance_id IN (
    SELECT instance_id FROM workflow_instances
    WHERE wake_at <= @now AND (lease_owner IS NULL OR lease_until < @now)
      AND definition_key IN (SELECT value FROM json_each(@definitions))
    ORDER BY wake_at
    LIMIT @limit
  )
  RETURNING instance_id, workflow_id, workflow_version, tenant_id, stream_id, lease_epoch, inbox_version, inbox_seen`;

/** A row CLAIM returns. */
export interface SqliteClaimRow {
  instance_id: string;
  workflow_id: string;
  workflow_version: number;
  tenant_id: string;
  stream_id: string;
  lease_epoch: number;
  inbox_version: number;
  inbox_seen: number;
}
