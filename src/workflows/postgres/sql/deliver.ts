/**
 * Puts an item in an unended instance's inbox ($1 id, $2 kind, $3 name, $4 payload JSON, $5 now): bumps
 * its inbox version (a holder parking sees it), raises the cancel flag for a cancel (a holder's renewal
 * reads it and aborts the running action), and makes the instance due now when no process holds it.
 * No row comes back when the instance is unknown or ended.
 */
export function deliverStatement(schema: string): string {
  return `
    WITH target AS (
      UPDATE ${schema}.workflow_instances SET
        inbox_version = inbox_version + 1,
        cancel_requested = cancel_requested OR $2 = 'cancel',
        wake_at = CASE WHEN lease_owner IS NULL THEN $5::bigint ELSE wake_at END,
        updated_at = $5::bigint
      WHERE instance_id = $1 AND ended_at IS NULL
      RETURNING instance_id
    )
    INSERT INTO ${schema}.workflow_inbox (instance_id, kind, name, payload, created_at)
    SELECT instance_id, $2, $3, $4, $5::bigint FROM target
    RETURNING instance_id`;
}

/** Delivers a reply ($2 JSON) to the instance waiting on key $1, at $3 (now); its id, or no row when none waits. */
export function deliverReplyStatement(schema: string): string {
  return `
    WITH target AS (
      UPDATE ${schema}.workflow_instances i SET
        inbox_version = i.inbox_version + 1,
        wake_at = CASE WHEN i.lease_owner IS NULL THEN $3::bigint ELSE i.wake_at END,
        updated_at = $3::bigint
      FROM ${schema}.workflow_waits w
      WHERE w.correlation_key = $1 AND i.instance_id = w.instance_id AND i.ended_at IS NULL
      RETURNING i.instance_id
    )
    INSERT INTO ${schema}.workflow_inbox (instance_id, kind, name, payload, created_at)
    SELECT instance_id, 'reply', $1, $2, $3::bigint FROM target
    RETURNING instance_id`;
}
