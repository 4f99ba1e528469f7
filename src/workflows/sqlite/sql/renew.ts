/** Extends the owner's leases on the given instances (ids as a JSON array); returns those it still holds. */
export const RENEW = `
  UPDATE workflow_instances SET lease_until = @until, wake_at = @until
  WHERE lease_owner = @owner AND instance_id IN (SELECT value FROM json_each(@ids))
  RETURNING instance_id, lease_epoch, cancel_requested`;

/** A row RENEW returns. */
export interface SqliteRenewRow {
  instance_id: string;
  lease_epoch: number;
  cancel_requested: number;
}
