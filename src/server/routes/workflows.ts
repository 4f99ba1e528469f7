import { z } from 'zod';
import type { WorkflowDefinition } from '../../workflows/define-workflow.ts';
import type { WorkflowEngine } from '../../workflows/engine-types.ts';
import { WorkflowInstanceNotFoundError } from '../../workflows/errors.ts';
import { actorOf } from '../api/actor.ts';
import { ResourceConflictError } from '../api/errors.ts';
import {
  cursorParam,
  decodeCursor,
  encodeCursor,
  limitParam,
  pageOfList,
  pageSchema,
} from '../api/pagination.ts';
import { type ApiRegistry, defineRoute } from '../api/route.ts';
import { seesTenant } from '../security/request-scope.ts';
import { instanceTimeline, timelineSchema } from '../workflows/instance-timeline.ts';
import {
  definitionSchema,
  definitionViews,
  instanceStateSchema,
  instanceStateView,
  instanceSummarySchema,
  instanceSummaryView,
  slaStates,
  workflowStatuses,
} from '../workflows/workflow-views.ts';

/** What the workflow routes use. */
export interface WorkflowRoutesOptions {
  engine: WorkflowEngine;
  /** Definitions this node runs. */
  definitions: readonly WorkflowDefinition[];
  /** Milliseconds before its SLA deadline an instance counts as at risk (the engine's `slaRiskWindowMs`). */
  slaRiskWindowMs: number;
}

const afterInstance = z.strictObject({ createdAt: z.int(), instanceId: z.string() });
const instanceParam = z.strictObject({ instanceId: z.string().min(1).describe('Instance id.') });
const actionAnswer = z.object({
  instanceId: z.string(),
  action: z.enum(['signal', 'cancel', 'retry']),
  actor: z.string().nullable().describe('Who asked (the `keel-actor` header).'),
});

/** Registers workflow definitions, instances (list, one with its timeline) and the operator actions. */
export function registerWorkflowRoutes(api: ApiRegistry, options: WorkflowRoutesOptions): void {
  registerWorkflowReads(api, options);
  registerWorkflowActions(api, options);
}

function registerWorkflowReads(api: ApiRegistry, options: WorkflowRoutesOptions): void {
  const { engine, slaRiskWindowMs } = options;
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/workflows/definitions',
      operationId: 'listWorkflowDefinitions',
      summary: 'Workflow definitions this node runs, each with its versions (steps, SLA, time-out, triggers)',
      tag: 'workflows',
      query: z.strictObject({ limit: limitParam(), cursor: cursorParam }),
      answer: pageSchema(definitionSchema),
      handler: async ({ query }) => pageOfList(definitionViews(options.definitions), (d) => d.id, query),
    }),
  );
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/workflows/instances',
      operationId: 'listWorkflowInstances',
      summary: 'Workflow instances in creation order, filtered by status, definition, tenant and SLA state',
      description:
        'SLA states: `breached` (flagged, or past its deadline unended), `at-risk` (unended, within the risk ' +
        'window of its deadline, 5 minutes), `on-time`, `none` (no SLA).',
      tag: 'workflows',
      query: z.strictObject({
        status: z.enum(workflowStatuses).optional(),
        definition: z.string().min(1).optional().describe('Workflow id.'),
        version: z.coerce
          .number()
          .int()
          .min(1)
          .optional()
          .describe('Definition version (with `definition`).'),
        tenant: z.string().min(1).optional(),
        sla: z.enum(slaStates).optional().describe('SLA state now.'),
        limit: limitParam(),
        cursor: cursorParam,
      }),
      answer: pageSchema(instanceSummarySchema),
      handler: async ({ query }) => {
        const after = query.cursor === undefined ? undefined : decodeCursor(afterInstance, query.cursor);
        const rows = await engine.list({
          limit: query.limit + 1,
          ...(query.status === undefined ? {} : { status: query.status }),
          ...(query.definition === undefined ? {} : { definition: query.definition }),
          ...(query.version === undefined ? {} : { version: query.version }),
          ...(query.tenant === undefined ? {} : { tenantId: query.tenant }),
          ...(query.sla === undefined ? {} : { slaState: query.sla }),
          ...(after === undefined ? {} : { after }),
        });
        const page = rows.slice(0, query.limit);
        const last = page.at(-1);
        const now = Date.now();
        return {
          items: page.map((row) => instanceSummaryView(row, now, slaRiskWindowMs)),
          next:
            rows.length > query.limit && last !== undefined
              ? encodeCursor({ createdAt: last.createdAt, instanceId: last.instanceId })
              : null,
        };
      },
    }),
  );
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/workflows/instances/:instanceId',
      operationId: 'getWorkflowInstance',
      summary:
        "One instance: its state and its timeline (steps' attempts, outputs, timers, signals, compensations)",
      tag: 'workflows',
      params: instanceParam,
      answer: instanceStateSchema.extend({ timeline: timelineSchema }),
      problems: [404],
      handler: async ({ params, request }) => {
        const view = await engine.get(params.instanceId);
        // Another tenant's instance is missing to a tenant-scoped identity: the engine's own not-found.
        if (!seesTenant(request, view.tenantId)) throw new WorkflowInstanceNotFoundError(params.instanceId);
        return { ...instanceStateView(view), timeline: instanceTimeline(view) };
      },
    }),
  );
}

function registerWorkflowActions(api: ApiRegistry, options: WorkflowRoutesOptions): void {
  const { engine } = options;
  api.add(
    defineRoute({
      method: 'POST',
      url: '/v1/workflows/instances/:instanceId/signal',
      operationId: 'signalWorkflowInstance',
      summary: 'Send a signal (a name and a JSON payload) to an unended instance',
      tag: 'workflows',
      params: instanceParam,
      body: z.strictObject({
        name: z.string().min(1).max(200).describe('Signal name, as the step waits for it.'),
        payload: z.unknown().optional().describe('JSON payload; the waiting step outputs it.'),
      }),
      answer: actionAnswer,
      status: 202,
      problems: [404, 409],
      handler: async ({ params, body, request }) => {
        await engine.signal(params.instanceId, body.name, body.payload ?? null);
        return { instanceId: params.instanceId, action: 'signal' as const, actor: actorOf(request) ?? null };
      },
    }),
  );
  api.add(
    defineRoute({
      method: 'POST',
      url: '/v1/workflows/instances/:instanceId/cancel',
      operationId: 'cancelWorkflowInstance',
      summary: 'Cancel an unended instance: its completed steps are compensated, then it ends as cancelled',
      tag: 'workflows',
      params: instanceParam,
      body: z.strictObject({
        reason: z.string().trim().max(500).optional().describe('Why, for the history.'),
      }),
      answer: actionAnswer,
      status: 202,
      problems: [404, 409],
      handler: async ({ params, body, request }) => {
        const actor = actorOf(request);
        const reason = [body.reason, actor === undefined ? undefined : `by ${actor}`]
          .filter(Boolean)
          .join(' ');
        await engine.cancel(params.instanceId, reason === '' ? {} : { reason });
        return { instanceId: params.instanceId, action: 'cancel' as const, actor: actor ?? null };
      },
    }),
  );
  api.add(
    defineRoute({
      method: 'POST',
      url: '/v1/workflows/instances/:instanceId/retry',
      operationId: 'retryWorkflowStep',
      summary: 'Try the failing step of an instance that needs an operator again',
      description:
        'An instance whose compensation kept failing waits for an operator (`needs_operator`): this tries ' +
        'that compensation again. A failed forward step is retried by its retry policy, then compensated; ' +
        'an ended instance cannot be retried (409): start a new one.',
      tag: 'workflows',
      params: instanceParam,
      body: z.strictObject({
        detail: z.string().trim().max(500).optional().describe('Why, for the history.'),
      }),
      answer: actionAnswer,
      status: 202,
      problems: [404, 409],
      handler: async ({ params, body, request }) => {
        const view = await engine.get(params.instanceId);
        if (view.status !== 'needs_operator') {
          throw new ResourceConflictError(
            `instance ${params.instanceId} is ${view.status}: only an instance that needs an operator has a step to retry`,
            'params.instanceId',
          );
        }
        const actor = actorOf(request);
        const detail = [body.detail, actor === undefined ? undefined : `by ${actor}`]
          .filter(Boolean)
          .join(' ');
        await engine.resume(params.instanceId, detail === '' ? {} : { detail });
        return { instanceId: params.instanceId, action: 'retry' as const, actor: actor ?? null };
      },
    }),
  );
}
