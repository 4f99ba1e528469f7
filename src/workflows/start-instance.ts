import { createEvent } from '../events/create-event.ts';
import type { EventData } from '../events/define-event.ts';
import { newEventId } from '../events/event-id.ts';
import { issuesFromZod } from '../events/issues.ts';
import { WrongExpectedVersionError } from '../store/errors.ts';
import { DEFAULT_TENANT, type EventStore } from '../store/event-store.ts';
import type { InstanceInsert, WorkflowBackend } from './backend.ts';
import type { WorkflowDefinition } from './define-workflow.ts';
import type { DrivePool } from './drive-pool.ts';
import type { WorkflowEngineSettings } from './engine-options.ts';
import type { StartOptions, StartResult } from './engine-types.ts';
import { WorkflowInputError } from './errors.ts';
import type { WorkflowMetrics } from './metrics.ts';
import type { WorkflowRegistry } from './registry.ts';
import { WorkflowStarted } from './workflow-events.ts';

const INSTANCE_ID = /^[^\s]{1,200}$/;

/** `workflow-<workflowId>-<instanceId>`: the stream of an instance's history. */
export function workflowStreamId(workflowId: string, instanceId: string): string {
  return `workflow-${workflowId}-${instanceId}`;
}

/** What starting an instance needs from the engine. */
export interface StartDependencies {
  store: EventStore;
  backend: WorkflowBackend;
  registry: WorkflowRegistry;
  pool: DrivePool;
  metrics: WorkflowMetrics | undefined;
  settings: Pick<WorkflowEngineSettings, 'workerId' | 'concurrency' | 'leaseTtlMs' | 'source'>;
  /** Creates the tables if this process has not yet. */
  ensureMigrated(): Promise<void>;
  /** Whether this process runs as a worker (then it may run the new instance itself). */
  running(): boolean;
  /** Wakes the claim loop (a new instance is due). */
  kick(): void;
}

/** The definition `ref` names (registering a definition on first use), and the input its schema accepts. */
function resolveStart(registry: WorkflowRegistry, ref: WorkflowDefinition | string, input: unknown) {
  let definition: WorkflowDefinition;
  if (typeof ref === 'string') definition = registry.latest(ref);
  else {
    registry.register(ref);
    definition = ref;
  }
  let value: unknown = input;
  if (definition.input !== undefined) {
    const checked = definition.input.safeParse(input);
    if (!checked.success)
      throw new WorkflowInputError(definition.id, issuesFromZod(checked.error.issues, 'input'));
    value = checked.data;
  }
  return { definition, value };
}

/** The WorkflowStarted data of a new instance. */
function startedData(
  definition: WorkflowDefinition,
  instanceId: string,
  value: unknown,
  correlationId: string,
  causationId: string | undefined,
  now: number,
): EventData<typeof WorkflowStarted> {
  return {
    instanceId,
    workflowId: definition.id,
    workflowVersion: definition.version,
    input: value === undefined ? null : JSON.parse(JSON.stringify(value)),
    correlationId,
    ...(causationId === undefined ? {} : { causationId }),
    startedAt: now,
    ...(definition.slaMs === undefined ? {} : { slaDeadline: now + definition.slaMs }),
    ...(definition.timeoutMs === undefined ? {} : { deadline: now + definition.timeoutMs }),
  };
}

/**
 * Starts an instance: validates the input, then stores its WorkflowStarted with its row in one append.
 * In a worker with room to spare the instance is leased to this process and its drive stores the start
 * together with its first step's start. An instance id that exists starts nothing (`created: false`).
 */
export async function startInstance(
  deps: StartDependencies,
  ref: WorkflowDefinition | string,
  input: unknown,
  options: StartOptions,
): Promise<StartResult> {
  const { store, backend, pool, settings } = deps;
  const { definition, value } = resolveStart(deps.registry, ref, input);
  const instanceId = options.instanceId ?? newEventId();
  if (typeof instanceId !== 'string' || !INSTANCE_ID.test(instanceId)) {
    throw new TypeError(`start: instanceId must be 1-200 characters without spaces, got "${instanceId}"`);
  }
  await deps.ensureMigrated();
  const streamId = workflowStreamId(definition.id, instanceId);
  const tenantId = options.tenantId ?? store.tenantId ?? DEFAULT_TENANT;
  const correlationId = options.correlationId ?? instanceId;
  const now = Date.now();
  const data = startedData(definition, instanceId, value, correlationId, options.causationId, now);
  const event = createEvent(WorkflowStarted, data, {
    source: settings.source,
    tenantId,
    correlationId,
    subject: instanceId,
    ...(options.causationId === undefined ? {} : { causationId: options.causationId }),
  });
  const inline = deps.running() && pool.size() < settings.concurrency && !pool.has(instanceId);
  const row: InstanceInsert = {
    instanceId,
    workflowId: definition.id,
    workflowVersion: definition.version,
    tenantId,
    streamId,
    slaDeadline: data.slaDeadline ?? null,
    now,
    lease: inline ? { owner: settings.workerId, until: now + settings.leaseTtlMs } : undefined,
  };
  let created: boolean;
  if (inline) {
    const outcome = await new Promise<boolean | Error>((stored) => {
      pool.launch(
        instanceId,
        { owner: settings.workerId, epoch: 1 },
        { kind: 'new', streamId, tenantId, event, row, stored },
      );
    });
    if (outcome instanceof Error) throw outcome;
    created = outcome;
  } else {
    try {
      await store.append(streamId, [event], {
        expectedVersion: 'no_stream',
        tenantId,
        withinTransaction: backend.insertHook(row),
      });
      created = true;
      deps.kick();
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError)) throw error;
      created = false;
    }
  }
  const result = {
    instanceId,
    workflowId: definition.id,
    workflowVersion: definition.version,
    streamId,
    created,
  };
  if (!created) {
    const existing = await backend.get(instanceId);
    return { ...result, workflowVersion: existing?.workflowVersion ?? definition.version };
  }
  deps.metrics?.started.inc({ workflow: definition.id });
  return result;
}
