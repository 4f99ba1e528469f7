import type { InstanceQuery } from '../../backend.ts';
import { slaCondition } from '../../sla-condition.ts';
import { INSTANCE_COLUMNS } from './instance-row.ts';

/** One instance's row. */
export const GET_INSTANCE = `SELECT ${INSTANCE_COLUMNS} FROM workflow_instances WHERE instance_id = ?`;

/** Unended instances by workflow and status. */
export const COUNT_ACTIVE = `
  SELECT workflow_id, status, count(*) AS count FROM workflow_instances
  WHERE ended_at IS NULL GROUP BY workflow_id, status`;

/** The list query for a filter, and its parameters. */
export function listInstances(query: InstanceQuery): { sql: string; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  if (query.status !== undefined) {
    conditions.push('status IN (SELECT value FROM json_each(?))');
    params.push(JSON.stringify(query.status));
  }
  if (query.workflowId !== undefined) {
    conditions.push('workflow_id = ?');
    params.push(query.workflowId);
  }
  if (query.workflowVersion !== undefined) {
    conditions.push('workflow_version = ?');
    params.push(query.workflowVersion);
  }
  if (query.tenantId !== undefined) {
    conditions.push('tenant_id = ?');
    params.push(query.tenantId);
  }
  if (query.slaDeadlineBefore !== undefined) {
    conditions.push('ended_at IS NULL AND sla_deadline IS NOT NULL AND sla_deadline <= ?');
    params.push(query.slaDeadlineBefore);
  }
  if (query.sla !== undefined) {
    const sla = slaCondition(query.sla, (breached) => `sla_breached = ${breached ? 1 : 0}`);
    conditions.push(sla.sql);
    params.push(...sla.params);
  }
  if (query.after !== undefined) {
    conditions.push('(created_at, instance_id) > (?, ?)');
    params.push(query.after.createdAt, query.after.instanceId);
  }
  const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
  const order =
    query.slaDeadlineBefore === undefined ? 'created_at, instance_id' : 'sla_deadline, instance_id';
  params.push(query.limit ?? 100);
  return {
    sql: `SELECT ${INSTANCE_COLUMNS} FROM workflow_instances ${where} ORDER BY ${order} LIMIT ?`,
    params,
  };
}
