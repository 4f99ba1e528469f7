import type { InstanceQuery, InstanceRow, SlaState } from './backend.ts';

/**
 * The SQL condition of an SLA state at `now` with `?` placeholders, and their values (ms since the epoch),
 * for both backends' list queries; `flagged` writes the dialect's test of the `sla_breached` column.
 */
export function slaCondition(
  sla: NonNullable<InstanceQuery['sla']>,
  flagged: (breached: boolean) => string,
): { sql: string; params: number[] } {
  const { now, riskWindowMs } = sla;
  switch (sla.state) {
    case 'none':
      return { sql: 'sla_deadline IS NULL', params: [] };
    case 'breached':
      return { sql: `(${flagged(true)} OR (ended_at IS NULL AND sla_deadline <= ?))`, params: [now] };
    case 'at-risk':
      return {
        sql: `${flagged(false)} AND ended_at IS NULL AND sla_deadline > ? AND sla_deadline <= ?`,
        params: [now, now + riskWindowMs],
      };
    case 'on-time':
      return {
        sql: `sla_deadline IS NOT NULL AND ${flagged(false)} AND (ended_at IS NOT NULL OR sla_deadline > ?)`,
        params: [now + riskWindowMs],
      };
  }
}

/** The SLA state of an instance row at `now`: the same rules as `slaCondition`. */
export function slaStateOf(row: InstanceRow, now: number, riskWindowMs: number): SlaState {
  if (row.slaDeadline === null) return 'none';
  if (row.slaBreached || (row.endedAt === null && row.slaDeadline <= now)) return 'breached';
  if (row.endedAt === null && row.slaDeadline <= now + riskWindowMs) return 'at-risk';
  return 'on-time';
}
