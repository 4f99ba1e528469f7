import type { Logger } from 'pino';
import { defaultLogger } from '../observability/logger.ts';
import type { InstanceQuery } from './backend.ts';
import type { WorkflowDefinition } from './define-workflow.ts';
import { createDrivePool } from './drive-pool.ts';
import type { DriverDependencies } from './drive-types.ts';
import { createEndWaiters } from './end-waiters.ts';
import { parseWorkflowEngineOptions, type WorkflowEngineSettings } from './engine-options.ts';
import type { ListOptions, StartOptions, WorkflowEngine, WorkflowEngineOptions } from './engine-types.ts';
import {
  WorkflowEngineClosedError,
  WorkflowInstanceEndedError,
  WorkflowInstanceNotFoundError,
} from './errors.ts';
import { readInstanceView } from './instance-view.ts';
import { createWorkflowRegistry, type WorkflowRegistry } from './registry.ts';
import { startInstance } from './start-instance.ts';
import { createWakeSignal, type WakeSignal } from './wake-signal.ts';
import { startWorkflowBus, type WorkflowBus, type WorkflowBusDependencies } from './workflow-bus.ts';

export { DEFAULT_WORKFLOW_GROUP } from './engine-options.ts';
export { workflowStreamId } from './start-instance.ts';

/** The backend's filter for `list`; `slaRiskWindowMs` is what `slaRisk: true` means. */
export function instanceQuery(options: ListOptions, slaRiskWindowMs: number, now: number): InstanceQuery {
  const query: InstanceQuery = {};
  if (options.status !== undefined) {
    query.status = typeof options.status === 'string' ? [options.status] : options.status;
  }
  if (typeof options.definition === 'string') {
    query.workflowId = options.definition;
    if (options.version !== undefined) query.workflowVersion = options.version;
  } else if (options.definition !== undefined) {
    query.workflowId = options.definition.id;
    query.workflowVersion = options.definition.version;
  }
  if (options.tenantId !== undefined) query.tenantId = options.tenantId;
  if (options.slaRisk !== undefined && options.slaRisk !== false) {
    const window = options.slaRisk === true ? slaRiskWindowMs : options.slaRisk.withinMs;
    query.slaDeadlineBefore = now + window;
  }
  if (options.slaState !== undefined)
    query.sla = { state: options.slaState, now, riskWindowMs: slaRiskWindowMs };
  if (options.after !== undefined) query.after = options.after;
  if (options.limit !== undefined) query.limit = options.limit;
  return query;
}

/** Starts the engine's bus, if it has one. */
function openBus(
  settings: WorkflowEngineSettings,
  registry: WorkflowRegistry,
  logger: Logger,
  wake: WakeSignal,
  start: WorkflowBusDependencies['start'],
): Promise<WorkflowBus | undefined> {
  if (settings.bus === undefined) return Promise.resolve(undefined);
  const { backend, source } = settings;
  return startWorkflowBus({ bus: settings.bus, backend, registry, source, logger, kick: wake.kick, start });
}

/** What the worker's drives need from the engine. */
function driverDependencies(
  settings: WorkflowEngineSettings,
  registry: WorkflowRegistry,
  logger: Logger,
  wake: WakeSignal,
  bus: WorkflowBus | undefined,
  closing: () => boolean,
): DriverDependencies {
  return {
    store: settings.store,
    backend: settings.backend,
    registry,
    publisher: bus?.publisher,
    publishesBreaches: bus?.publishesBreaches ?? false,
    metrics: settings.metrics,
    logger,
    source: settings.source,
    onTransition: settings.onTransition,
    kick: wake.kick,
    wakeAt: wake.wakeAt,
    closing,
  };
}

/**
 * Creates a workflow engine on an event store (one stream per instance) and a backend (instance rows,
 * leases, timers, inbox) on the same database. It is a client at once (start, signal, cancel, get,
 * list); `startWorker()` makes this process run due instances too.
 */
export function createWorkflowEngine(options: WorkflowEngineOptions): WorkflowEngine {
  const settings: WorkflowEngineSettings = parseWorkflowEngineOptions(options);
  const { store, backend, metrics, workerId } = settings;
  const registry = createWorkflowRegistry();
  for (const definition of settings.workflows) registry.register(definition);
  const logger = (settings.logger ?? defaultLogger()).child({ component: 'workflows' });
  metrics?.observeInstances(() => backend.countActive());

  let phase: 'client' | 'running' | 'closing' | 'closed' = 'client';
  const running = () => phase === 'running';
  let migrated: Promise<void> | undefined;
  let bus: WorkflowBus | undefined;
  const wake = createWakeSignal(running);
  const endWaiters = createEndWaiters();
  const pool = createDrivePool({
    backend,
    registry,
    settings,
    logger,
    wake,
    running,
    onDriveEnd: endWaiters.notify,
  });

  const ensureMigrated = (): Promise<void> => {
    migrated ??= backend.migrate().catch((error) => {
      migrated = undefined;
      throw error;
    });
    return migrated;
  };
  const ensureOpen = (operation: string) => {
    if (phase === 'closing' || phase === 'closed') throw new WorkflowEngineClosedError(operation);
  };
  const startDeps = {
    store,
    backend,
    registry,
    pool,
    metrics,
    settings,
    ensureMigrated,
    running,
    kick: wake.kick,
  };

  const deliver = async (
    instanceId: string,
    kind: 'signal' | 'cancel' | 'resume',
    name: string,
    payload: unknown,
  ) => {
    await ensureMigrated();
    if (!(await backend.deliver(instanceId, kind, name, payload, Date.now()))) {
      const row = await backend.get(instanceId);
      if (row === undefined) throw new WorkflowInstanceNotFoundError(instanceId);
      throw new WorkflowInstanceEndedError(instanceId, row.status);
    }
    if (kind === 'cancel') pool.cancel(instanceId);
    wake.kick();
  };

  const startWorker = async () => {
    ensureOpen('startWorker');
    if (phase === 'running') return;
    await ensureMigrated();
    bus = await openBus(settings, registry, logger, wake, (workflow, input, startOptions) =>
      engine.start(workflow, input, startOptions),
    );
    phase = 'running';
    pool.start(driverDependencies(settings, registry, logger, wake, bus, () => phase !== 'running'));
    logger.info({ workerId, workflows: registry.keys() }, 'workflow worker started');
  };

  const close = async (deadlineMs = 10_000) => {
    if (phase === 'closed' || phase === 'closing') return;
    const wasRunning = phase === 'running';
    phase = 'closing';
    if (wasRunning) {
      await pool.stopClaiming();
      await bus?.closeRouter(deadlineMs);
      await pool.drain(deadlineMs);
      wake.stop();
      await bus?.closePublisher();
    }
    phase = 'closed';
  };

  const engine: WorkflowEngine = {
    workerId,
    register(definition) {
      registry.register(definition);
    },
    async start<Input>(
      ref: WorkflowDefinition<Input> | string,
      input: NoInfer<Input>,
      startOptions: StartOptions = {},
    ) {
      ensureOpen('start');
      return startInstance(startDeps, ref as WorkflowDefinition | string, input, startOptions);
    },
    signal(instanceId, name, payload) {
      if (typeof name !== 'string' || name === '')
        throw new TypeError('signal: name must be a non-empty string');
      return deliver(instanceId, 'signal', name, payload ?? null);
    },
    cancel(instanceId, cancelOptions = {}) {
      return deliver(instanceId, 'cancel', cancelOptions.reason ?? '', null);
    },
    resume(instanceId, resumeOptions = {}) {
      return deliver(instanceId, 'resume', resumeOptions.detail ?? '', null);
    },
    async get(instanceId) {
      await ensureMigrated();
      return readInstanceView(store, backend, registry, instanceId);
    },
    async list(listOptions: ListOptions = {}) {
      await ensureMigrated();
      return backend.list(instanceQuery(listOptions, settings.slaRiskWindowMs, Date.now()));
    },
    waitForEnd(instanceId, waitOptions = {}) {
      return endWaiters.wait(
        instanceId,
        waitOptions.timeoutMs ?? 30_000,
        (id) => backend.get(id),
        (id) => engine.get(id),
      );
    },
    startWorker,
    running: () => pool.size(),
    close,
    [Symbol.asyncDispose]() {
      return engine.close();
    },
  };
  return engine;
}
