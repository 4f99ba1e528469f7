import type { InstanceInsert } from '../../backend.ts';
import { definitionKey } from '../../backend.ts';

/** Inserts a new instance's row (inside the append of its WorkflowStarted); a taken id fails the append. */
export const INSERT_INSTANCE = `
  INSERT INTO workflow_instances (
    instance_id, workflow_id, workflow_version, definition_key, tenant_id, stream_id, status, step,
    stream_version, wake_at, sla_deadline, lease_owner, lease_until, lease_epoch, created_at, updated_at
  ) VALUES (
    @instanceId, @workflowId, @workflowVersion, @definitionKey, @tenantId, @streamId, 'running', NULL,
    1, @wakeAt, @slaDeadline, @leaseOwner, @leaseUntil, @leaseEpoch, @now, @now
  )`;

/** Named parameters of INSERT_INSTANCE. */
export function insertInstanceParams(row: InstanceInsert): Record<string, unknown> {
  return {
    instanceId: row.instanceId,
    workflowId: row.workflowId,
    workflowVersion: row.workflowVersion,
    definitionKey: definitionKey(row.workflowId, row.workflowVersion),
    tenantId: row.tenantId,
    streamId: row.streamId,
    // A leased row is due when its lease runs out (its holder died); an unleased one is due now.
    wakeAt: row.lease === undefined ? row.now : row.lease.until,
    slaDeadline: row.slaDeadline,
    leaseOwner: row.lease?.owner ?? null,
    leaseUntil: row.lease?.until ?? null,
    leaseEpoch: row.lease === undefined ? 0 : 1,
    now: row.now,
  };
}
