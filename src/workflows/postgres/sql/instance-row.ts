import type { InstanceRow } from '../../backend.ts';
import type { WorkflowStatus } from '../../instance-state.ts';

/** The columns every instance read selects (bigints as text, read back with Number: ms fit in 2^53). */
export const INSTANCE_COLUMNS = `instance_id, workflow_id, workflow_version, tenant_id, stream_id, status, step,
  stream_version, wake_at::text, sla_deadline::text, sla_breached, lease_owner, lease_until::text,
  created_at::text, updated_at::text, ended_at::text`;

const num = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

/** The row as the backend port shows it. */
export function toInstanceRow(row: Record<string, unknown>): InstanceRow {
  return {
    instanceId: String(row.instance_id),
    workflowId: String(row.workflow_id),
    workflowVersion: Number(row.workflow_version),
    tenantId: String(row.tenant_id),
    streamId: String(row.stream_id),
    status: row.status as WorkflowStatus,
    step: (row.step as string | null) ?? null,
    streamVersion: Number(row.stream_version),
    wakeAt: num(row.wake_at),
    slaDeadline: num(row.sla_deadline),
    slaBreached: row.sla_breached === true,
    leaseOwner: (row.lease_owner as string | null) ?? null,
    leaseUntil: num(row.lease_until),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    endedAt: num(row.ended_at),
  };
}
