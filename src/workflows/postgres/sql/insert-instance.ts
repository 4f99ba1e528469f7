import type { InstanceInsert } from '../../backend.ts';
import { definitionKey } from '../../backend.ts';

/** Inserts a new instance's row (inside the append of its WorkflowStarted); a taken id fails the append. */
export function insertInstanceStatement(schema: string): string {
  return `
    INSERT INTO ${schema}.workflow_instances (
      instance_id, workflow_id, workflow_version, definition_key, tenant_id, stream_id, status, step,
      stream_version, wake_at, sla_deadline, lease_owner, lease_until, lease_epoch, created_at, updated_at
    ) VALUES ($1, $2, $3::integer, $4, $5, $6, 'running', NULL, 1, $7::bigint, $8::bigint, $9, $10::bigint,
      $11::bigint, $12::bigint, $12::bigint)`;
}

/** Parameters of the insert statement. */
export function insertInstanceParams(row: InstanceInsert): unknown[] {
  return [
    row.instanceId,
    row.workflowId,
    row.workflowVersion,
    definitionKey(row.workflowId, row.workflowVersion),
    row.tenantId,
    row.streamId,
    // A leased row is due when its lease runs out (its holder died); an unleased one is due now.
    row.lease === undefined ? row.now : row.lease.until,
    row.slaDeadline,
    row.lease?.owner ?? null,
    row.lease?.until ?? null,
    row.lease === undefined ? 0 : 1,
    row.now,
  ];
}
