import type { InstanceRow } from '../../backend.ts';
import type { WorkflowStatus } from '../../instance-state.ts';

/** An instance row as SQLite returns it (integers as numbers: times in ms fit in 2^53). */
export interface SqliteInstanceRow {
  instance_id: string;
  workflow_id: string;
  workflow_version: number;
  tenant_id: string;
  stream_id: string;
  status: string;
  step: string | null;
  stream_version: number;
  wake_at: number | null;
  sla_deadline: number | null;
  sla_breached: number;
  lease_owner: string | null;
  lease_until: number | null;
  created_at: number;
  updated_at: number;
  ended_at: number | null;
}

/** The columns every instance read selects, in SqliteInstanceRow's shape. */
export const INSTANCE_COLUMNS = `instance_id, workflow_id, workflow_version, tenant_id, stream_id, status, step,
  stream_version, wake_at, sla_deadline, sla_breached, lease_owner, lease_until, created_at, updated_at, ended_at`;

/** The row as the backend port shows it. */
export function toInstanceRow(row: SqliteInstanceRow): InstanceRow {
  return {
    instanceId: row.instance_id,
    workflowId: row.workflow_id,
    workflowVersion: row.workflow_version,
    tenantId: row.tenant_id,
    streamId: row.stream_id,
    status: row.status as WorkflowStatus,
    step: row.step,
    streamVersion: row.stream_version,
    wakeAt: row.wake_at,
    slaDeadline: row.sla_deadline,
    slaBreached: row.sla_breached === 1,
    leaseOwner: row.lease_owner,
    leaseUntil: row.lease_until,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    endedAt: row.ended_at,
  };
}
