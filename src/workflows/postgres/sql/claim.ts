/**
 * Leases up to $5 due instances of the known definitions ($4) to $1 until $3. A row is due when its
 * timer passed or its lease ran out (a claim sets wake_at to the lease's end, so a dead holder's rows
 * come due). SKIP LOCKED lets engines claim side by side without waiting for, or taking, each other's rows.
 */
export function claimStatement(schema: string): string {
  return `
    UPDATE ${schema}.workflow_instances AS i
    SET lease_owner = $1, lease_until = $3::bigint, wake_at = $3::bigint, lease_epoch = i.lease_epoch + 1
    FROM (
      SELECT instance_id FROM ${schema}.workflow_instances
      WHERE wake_at <= $2::bigint AND (lease_owner IS NULL OR lease_until < $2::bigint)
        AND definition_key = ANY($4::text[])
      ORDER BY wake_at
      LIMIT $5::integer
      FOR UPDATE SKIP LOCKED
    ) AS due
    WHERE i.instance_id = due.instance_id
    RETURNING i.instance_id, i.workflow_id, i.workflow_version, i.tenant_id, i.stream_id,
      i.lease_epoch::text, i.inbox_version::text, i.inbox_seen::text`;
}
