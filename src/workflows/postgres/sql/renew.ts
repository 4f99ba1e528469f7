/** Extends the owner's ($1) leases on the given instances ($3) to $2; returns those it still holds. */
export function renewStatement(schema: string): string {
  return `
    UPDATE ${schema}.workflow_instances SET lease_until = $2::bigint, wake_at = $2::bigint
    WHERE lease_owner = $1 AND instance_id = ANY($3::text[])
    RETURNING instance_id, lease_epoch::text, cancel_requested`;
}
