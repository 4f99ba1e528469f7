import { z } from 'zod';
import type { InstanceRow } from '../../workflows/backend.ts';
import type { WorkflowDefinition } from '../../workflows/define-workflow.ts';
import type { WorkflowInstanceView } from '../../workflows/engine-types.ts';
import { slaStateOf } from '../../workflows/sla-condition.ts';

/** The statuses of an instance. */
export const workflowStatuses = [
  'running',
  'waiting',
  'compensating',
  'needs_operator',
  'completed',
  'compensated',
  'failed',
  'timed_out',
  'cancelled',
] as const;

/** The SLA states an instance can be in. */
export const slaStates = ['none', 'on-time', 'at-risk', 'breached'] as const;

const versionSchema = z.object({
  version: z.int(),
  description: z.string().nullable(),
  slaMs: z.int().nullable().describe('Milliseconds from start to the SLA deadline; null is none.'),
  timeoutMs: z.int().nullable().describe('Milliseconds from start to the time-out; null is none.'),
  steps: z.array(
    z.object({
      name: z.string(),
      kind: z.enum(['action', 'command', 'signal', 'sleep']),
      maxAttempts: z.int(),
      timeoutMs: z.int().nullable(),
      slaMs: z.int().nullable(),
      compensates: z.boolean().describe('The step has a compensation.'),
      signal: z.string().nullable().describe('The signal a `signal` step waits for.'),
      command: z.string().nullable().describe('The command type a `command` step publishes.'),
    }),
  ),
  triggers: z.array(z.string()).describe('Event types that start an instance of this version.'),
});

/** JSON shape of a workflow definition with its versions. */
export const definitionSchema = z.object({
  id: z.string(),
  versions: z.array(versionSchema).describe('Newest first.'),
});

/** JSON shape of an instance in the list. */
export const instanceSummarySchema = z.object({
  instanceId: z.string(),
  workflowId: z.string(),
  workflowVersion: z.int(),
  tenantId: z.string(),
  status: z.enum(workflowStatuses),
  step: z.string().nullable().describe('The step it is on (or compensating).'),
  slaState: z.enum(slaStates),
  slaDeadline: z.iso.datetime().nullable(),
  startedAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  endedAt: z.iso.datetime().nullable(),
  leaseOwner: z.string().nullable().describe('The process running it now.'),
});

/** The definitions grouped by id, each id's versions newest first, ids sorted. */
export function definitionViews(
  definitions: readonly WorkflowDefinition[],
): z.input<typeof definitionSchema>[] {
  const byId = new Map<string, WorkflowDefinition[]>();
  for (const definition of definitions)
    byId.set(definition.id, [...(byId.get(definition.id) ?? []), definition]);
  return [...byId.keys()].sort().map((id) => ({
    id,
    versions: byId
      .get(id)!
      .sort((a, b) => b.version - a.version)
      .map((definition) => ({
        version: definition.version,
        description: definition.description ?? null,
        slaMs: definition.slaMs ?? null,
        timeoutMs: definition.timeoutMs ?? null,
        steps: definition.steps.map((step) => ({
          name: step.name,
          kind: step.kind,
          maxAttempts: step.retry.maxAttempts,
          timeoutMs: step.timeoutMs ?? null,
          slaMs: step.slaMs ?? null,
          compensates: step.compensate !== undefined,
          signal: step.signal ?? null,
          command: step.command?.event.type ?? null,
        })),
        triggers: definition.triggers.map((trigger) => trigger.event.type),
      })),
  }));
}

const iso = (ms: number | null | undefined): string | null =>
  ms == null ? null : new Date(ms).toISOString();

/** JSON view of an instance row. */
export function instanceSummaryView(
  row: InstanceRow,
  now: number,
  riskWindowMs: number,
): z.input<typeof instanceSummarySchema> {
  return {
    instanceId: row.instanceId,
    workflowId: row.workflowId,
    workflowVersion: row.workflowVersion,
    tenantId: row.tenantId,
    status: row.status,
    step: row.step,
    slaState: slaStateOf(row, now, riskWindowMs),
    slaDeadline: iso(row.slaDeadline),
    startedAt: iso(row.createdAt)!,
    updatedAt: iso(row.updatedAt)!,
    endedAt: iso(row.endedAt),
    leaseOwner: row.leaseOwner,
  };
}

/** JSON shape of one instance's state (the timeline is added beside it). */
export const instanceStateSchema = z.object({
  instanceId: z.string(),
  workflowId: z.string(),
  workflowVersion: z.int(),
  tenantId: z.string(),
  status: z.enum(workflowStatuses),
  currentStep: z.string().nullable(),
  input: z.unknown(),
  output: z.unknown(),
  error: z.object({ name: z.string(), message: z.string(), code: z.string().optional() }).nullable(),
  compensation: z
    .object({ reason: z.enum(['failed', 'timed_out', 'cancelled']), steps: z.array(z.string()) })
    .nullable()
    .describe('Why it compensates and the steps to undo, in order.'),
  startedAt: z.iso.datetime(),
  endedAt: z.iso.datetime().nullable(),
  slaDeadline: z.iso.datetime().nullable(),
  slaBreached: z.boolean(),
  deadline: z.iso.datetime().nullable().describe("The instance's time-out."),
  leaseOwner: z.string().nullable(),
});

/** JSON view of an instance's state. */
export function instanceStateView(view: WorkflowInstanceView): z.input<typeof instanceStateSchema> {
  return {
    instanceId: view.instanceId,
    workflowId: view.workflowId,
    workflowVersion: view.workflowVersion,
    tenantId: view.tenantId,
    status: view.status,
    currentStep: view.currentStep,
    input: view.input,
    output: view.output,
    error: view.error ?? null,
    compensation: view.compensation ?? null,
    startedAt: iso(view.startedAt)!,
    endedAt: iso(view.endedAt),
    slaDeadline: iso(view.slaDeadline),
    slaBreached: view.slaBreached,
    deadline: iso(view.deadline),
    leaseOwner: view.leaseOwner,
  };
}
