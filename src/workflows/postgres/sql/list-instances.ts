import type { InstanceQuery } from '../../backend.ts';
import { slaCondition } from '../../sla-condition.ts';
import { INSTANCE_COLUMNS } from './instance-row.ts';

/** One instance's row. */
export function getInstanceStatement(schema: string): string {
  return `SELECT ${INSTANCE_COLUMNS} FROM ${schema}.workflow_instances WHERE instance_id = $1`;
}

/** Unended instances by workflow and status. */
export function countActiveStatement(schema: string): string {
  return `
    SELECT workflow_id, status, count(*)::integer AS count FROM ${schema}.workflow_instances
    WHERE ended_at IS NULL GROUP BY workflow_id, status`;
}

/** The list query for a filter, and its parameters. */
export function listInstancesStatement(
  schema: string,
  query: InstanceQuery,
): { text: string; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown, cast: string) => {
    params.push(value);
    return `$${params.length}::${cast}`;
  };
  if (query.status !== undefined) conditions.push(`status = ANY(${param([...query.status], 'text[]')})`);
  if (query.workflowId !== undefined) conditions.push(`workflow_id = ${param(query.workflowId, 'text')}`);
  if (query.workflowVersion !== undefined) {
    conditions.push(`workflow_version = ${param(query.workflowVersion, 'integer')}`);
  }
  if (query.tenantId !== undefined) conditions.push(`tenant_id = ${param(query.tenantId, 'text')}`);
  if (query.slaDeadlineBefore !== undefined) {
    conditions.push(
      `ended_at IS NULL AND sla_deadline IS NOT NULL AND sla_deadline <= ${param(query.slaDeadlineBefore, 'bigint')}`,
    );
  }
  if (query.sla !== undefined) {
    const sla = slaCondition(query.sla, (breached) => (breached ? 'sla_breached' : 'NOT sla_breached'));
    let text = sla.sql;
    for (const value of sla.params) text = text.replace('?', param(value, 'bigint'));
    conditions.push(text);
  }
  if (query.after !== undefined) {
    conditions.push(
      `(created_at, instance_id) > (${param(query.after.createdAt, 'bigint')}, ${param(query.after.instanceId, 'text')})`,
    );
  }
  const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
  const order =
    query.slaDeadlineBefore === undefined ? 'created_at, instance_id' : 'sla_deadline, instance_id';
  const limit = param(query.limit ?? 100, 'integer');
  return {
    text: `SELECT ${INSTANCE_COLUMNS} FROM ${schema}.workflow_instances ${where} ORDER BY ${order} LIMIT ${limit}`,
    params,
  };
}
