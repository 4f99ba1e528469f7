import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { createPublisher } from '../bus/publisher.ts';
import type { Publisher } from '../bus/publisher-port.ts';
import { createRouter } from '../bus/router.ts';
import type { Router } from '../bus/router-port.ts';
import type { CloudEvent } from '../events/cloud-event.ts';
import { createEvent } from '../events/create-event.ts';
import type { EventData, EventDefinition } from '../events/define-event.ts';
import { newEventId } from '../events/event-id.ts';
import { issuesFromZod } from '../events/issues.ts';
import { defaultLogger } from '../observability/logger.ts';
import { WrongExpectedVersionError } from '../store/errors.ts';
import { DEFAULT_TENANT } from '../store/event-store.ts';
import type { TopicConfig } from '../transport/transport.ts';
import type { InstanceQuery, Lease } from './backend.ts';
import type { WorkflowDefinition, WorkflowTrigger } from './define-workflow.ts';
import type {
  ListOptions,
  StartOptions,
  StartResult,
  WorkflowEngine,
  WorkflowEngineOptions,
  WorkflowInstanceView,
} from './engine-types.ts';
import {
  LeaseLostError,
  WorkflowEngineClosedError,
  WorkflowInputError,
  WorkflowInstanceEndedError,
  WorkflowInstanceNotFoundError,
  WorkflowWaitTimeoutError,
} from './errors.ts';
import {
  type DriveHandle,
  type DriverDependencies,
  type DriveStart,
  driveInstance,
} from './instance-driver.ts';
import { foldHistory, isTerminal } from './instance-state.ts';
import { createWorkflowRegistry } from './registry.ts';
import { WorkflowSlaBreached, WorkflowStarted } from './workflow-events.ts';

/** Default consumer group of the engine's router. */
export const DEFAULT_WORKFLOW_GROUP = 'keel-workflows';

const INSTANCE_ID = /^[^\s]{1,200}$/;

interface ActiveInstance {
  handle: DriveHandle;
  stop: AbortController;
  cancel: AbortController;
  done: Promise<void>;
}

/** How the router hands one event type to the engine: replies to deliver, triggers to fire. */
interface BusRoute {
  definition: EventDefinition;
  correlates: Set<(reply: CloudEvent) => string | undefined>;
  triggers: { workflow: WorkflowDefinition; trigger: WorkflowTrigger }[];
}

const byCausation = (reply: CloudEvent): string | undefined => reply.causationid;

/** `workflow-<workflowId>-<instanceId>`: the stream of an instance's history. */
export function workflowStreamId(workflowId: string, instanceId: string): string {
  return `workflow-${workflowId}-${instanceId}`;
}

/**
 * Creates a workflow engine on an event store (one stream per instance) and a backend (instance rows,
 * leases, timers, inbox) on the same database. It is a client at once (start, signal, cancel, get,
 * list); `startWorker()` makes this process run due instances too.
 */
export function createWorkflowEngine(options: WorkflowEngineOptions): WorkflowEngine {
  const { store, backend, metrics } = options;
  const registry = createWorkflowRegistry();
  for (const definition of options.workflows ?? []) registry.register(definition);
  const logger = (options.logger ?? defaultLogger()).child({ component: 'workflows' });
  const workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const concurrency = options.concurrency ?? 64;
  const leaseTtlMs = options.leaseTtlMs ?? 10_000;
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  const claimBatch = options.claimBatch ?? 32;
  const slaRiskWindowMs = options.slaRiskWindowMs ?? 300_000;
  const source = options.source ?? 'urn:keel:workflows';
  // Drives run outside whatever async context started them (a trigger's handler, a request), so their
  // commands do not inherit that context's causation or trace.
  const detached = AsyncLocalStorage.snapshot();
  metrics?.observeInstances(() => backend.countActive());

  const active = new Map<string, ActiveInstance>();
  const endWaiters = new Map<string, Set<() => void>>();
  let phase: 'client' | 'running' | 'closing' | 'closed' = 'client';
  let migrated: Promise<void> | undefined;
  let deps: DriverDependencies | undefined;
  let router: Router | undefined;
  let ownPublisher: Publisher | undefined;
  let loop: Promise<void> | undefined;
  let renewTimer: NodeJS.Timeout | undefined;
  let lastRenewal = Date.now();

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

  // The poll loop sleeps until its interval passes or something kicks it.
  let kicked = false;
  let wakeLoop: (() => void) | undefined;
  const kick = () => {
    kicked = true;
    wakeLoop?.();
  };
  const sleepUntilKicked = (ms: number) =>
    new Promise<void>((resolve) => {
      if (kicked) {
        kicked = false;
        return resolve();
      }
      const timer = setTimeout(done, ms);
      wakeLoop = done;
      function done() {
        clearTimeout(timer);
        wakeLoop = undefined;
        kicked = false;
        resolve();
      }
    });

  // Timers this process parked instances on: the loop is kicked when the soonest comes due.
  const wakeTimes: number[] = [];
  let wakeTimer: NodeJS.Timeout | undefined;
  const armWakeTimer = () => {
    if (wakeTimer !== undefined) clearTimeout(wakeTimer);
    wakeTimer = undefined;
    const now = Date.now();
    while (wakeTimes.length > 0 && wakeTimes[0]! <= now) wakeTimes.shift();
    const next = wakeTimes[0];
    if (next === undefined || phase !== 'running') return;
    wakeTimer = setTimeout(
      () => {
        kick();
        armWakeTimer();
      },
      Math.max(1, next - now),
    );
    wakeTimer.unref();
  };
  const wakeAt = (time: number) => {
    // Far-off timers are left to the poll; a bounded list keeps a burst of parks cheap.
    if (phase !== 'running' || time - Date.now() > 3_600_000) return;
    let low = 0;
    let high = wakeTimes.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (wakeTimes[mid]! < time) low = mid + 1;
      else high = mid;
    }
    if (wakeTimes[low] === time) return;
    wakeTimes.splice(low, 0, time);
    if (wakeTimes.length > 10_000) wakeTimes.pop();
    if (low === 0) armWakeTimer();
  };

  const notifyEnd = (instanceId: string) => {
    for (const wake of endWaiters.get(instanceId) ?? []) wake();
  };

  const launch = (instanceId: string, lease: Lease, start: DriveStart) => {
    const previous = active.get(instanceId);
    // Claimed again while an old drive still runs (its lease ran out): the old one is fenced off anyway.
    previous?.stop.abort(
      new LeaseLostError(instanceId, previous.handle.lease.owner, previous.handle.lease.epoch),
    );
    const stop = new AbortController();
    const cancel = new AbortController();
    const handle: DriveHandle = { instanceId, lease, stop: stop.signal, cancel: cancel.signal };
    const entry: ActiveInstance = { handle, stop, cancel, done: Promise.resolve() };
    active.set(instanceId, entry);
    entry.done = detached(async () => {
      if (previous !== undefined) await previous.done;
      await driveInstance(deps!, handle, start);
    }).finally(() => {
      if (active.get(instanceId) === entry) active.delete(instanceId);
      notifyEnd(instanceId);
      kick();
    });
  };

  const pollLoop = async () => {
    while (phase === 'running') {
      const free = concurrency - active.size;
      const limit = Math.min(free, claimBatch);
      let claimed = 0;
      if (limit > 0) {
        try {
          const now = Date.now();
          const rows = await backend.claim(workerId, registry.keys(), now, now + leaseTtlMs, limit);
          claimed = rows.length;
          // Launched even if closing began meanwhile: the drive hands each one straight back.
          for (const row of rows) {
            launch(row.instanceId, row.lease, {
              kind: 'claimed',
              streamId: row.streamId,
              tenantId: row.tenantId,
              inboxVersion: row.inboxVersion,
              inboxSeen: row.inboxSeen,
            });
          }
        } catch (error) {
          logger.warn({ err: error }, 'cannot claim due instances; trying again');
        }
      }
      // A full batch means more may be due: look again at once.
      if (claimed > 0 && claimed === limit) continue;
      await sleepUntilKicked(pollIntervalMs);
    }
  };

  const renewLeases = async () => {
    const entries = [...active.values()];
    if (entries.length === 0) {
      lastRenewal = Date.now();
      return;
    }
    try {
      const result = await backend.renew(
        workerId,
        entries.map((entry) => entry.handle.instanceId),
        Date.now() + leaseTtlMs,
      );
      lastRenewal = Date.now();
      for (const entry of entries) {
        const { instanceId, lease } = entry.handle;
        if (active.get(instanceId) !== entry) continue;
        if (result.held.get(instanceId) !== lease.epoch) {
          // Released by the drive meanwhile, or claimed by another process: either way this drive is done.
          entry.stop.abort(new LeaseLostError(instanceId, lease.owner, lease.epoch));
        } else if (result.cancelRequested.has(instanceId)) {
          entry.cancel.abort();
        }
      }
    } catch (error) {
      logger.warn({ err: error }, 'cannot renew leases');
      if (Date.now() - lastRenewal > leaseTtlMs) {
        // Leases may have run out and been claimed elsewhere: stop rather than run an instance twice.
        for (const entry of entries) {
          entry.stop.abort(new LeaseLostError(entry.handle.instanceId, workerId, entry.handle.lease.epoch));
        }
      }
    }
  };

  const busRoutes = (): Map<string, BusRoute> => {
    const routes = new Map<string, BusRoute>();
    const routeOf = (definition: EventDefinition) => {
      let route = routes.get(definition.type);
      if (route === undefined) {
        route = { definition, correlates: new Set(), triggers: [] };
        routes.set(definition.type, route);
      }
      return route;
    };
    const latest = new Map<string, WorkflowDefinition>();
    for (const definition of registry.all()) {
      latest.set(definition.id, definition);
      for (const step of definition.steps) {
        const command = step.command;
        if (command === undefined) continue;
        for (const reply of [...command.replies, ...(command.failures ?? [])]) {
          routeOf(reply).correlates.add(command.correlate ?? byCausation);
        }
      }
    }
    for (const workflow of latest.values()) {
      for (const trigger of workflow.triggers) routeOf(trigger.event).triggers.push({ workflow, trigger });
    }
    return routes;
  };

  const onBusEvent = async (route: BusRoute, event: CloudEvent) => {
    for (const correlate of route.correlates) {
      const key = correlate(event);
      if (key === undefined || key === '') continue;
      const instanceId = await backend.deliverReply(key, event, Date.now());
      if (instanceId !== undefined) {
        kick();
        break;
      }
    }
    for (const { workflow, trigger } of route.triggers) {
      if (trigger.when !== undefined && !trigger.when(event)) continue;
      await engine.start(workflow, trigger.input(event), {
        instanceId: trigger.key(event),
        ...(event.tenantid === undefined ? {} : { tenantId: event.tenantid }),
        correlationId: event.correlationid ?? event.id,
        causationId: event.id,
      });
    }
  };

  const startBus = async (): Promise<{ publisher: Publisher | undefined; publishesBreaches: boolean }> => {
    const bus = options.bus;
    if (bus === undefined) return { publisher: undefined, publishesBreaches: false };
    const { transport, catalog } = bus;
    if (bus.publisher === undefined) {
      ownPublisher = createPublisher({ transport, catalog, source, logger, name: 'workflows' });
    }
    const publisher = bus.publisher ?? ownPublisher;
    const routes = busRoutes();
    const topics = new Map<string, TopicConfig>();
    const addTopic = (type: string) => {
      const { topic } = catalog.route(type);
      topics.set(topic.name, {
        name: topic.name,
        partitions: topic.partitions,
        replication: topic.replication,
        compacted: topic.compacted,
        ...(topic.retentionMs === undefined ? {} : { retentionMs: topic.retentionMs }),
        ...(topic.retentionBytes === undefined ? {} : { retentionBytes: topic.retentionBytes }),
      });
    };
    for (const type of routes.keys()) addTopic(type);
    for (const definition of registry.all()) {
      for (const step of definition.steps) if (step.command !== undefined) addTopic(step.command.event.type);
    }
    const publishesBreaches = catalog.event(WorkflowSlaBreached.type) !== undefined;
    if (publishesBreaches) addTopic(WorkflowSlaBreached.type);
    if (topics.size > 0) await transport.ensureTopics([...topics.values()]);
    if (routes.size > 0) {
      router = createRouter({
        shutdownSignals: [],
        ...bus.router,
        transport,
        catalog,
        group: bus.group ?? DEFAULT_WORKFLOW_GROUP,
        logger,
      });
      for (const route of routes.values()) {
        router.on(route.definition, (event) => onBusEvent(route, event as CloudEvent));
      }
      await router.start();
    }
    return { publisher, publishesBreaches };
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
    const local = active.get(instanceId);
    if (kind === 'cancel') local?.cancel.abort();
    kick();
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
    ): Promise<StartResult> {
      ensureOpen('start');
      let definition: WorkflowDefinition;
      if (typeof ref === 'string') definition = registry.latest(ref);
      else {
        registry.register(ref as WorkflowDefinition);
        definition = ref as WorkflowDefinition;
      }
      let value: unknown = input;
      if (definition.input !== undefined) {
        const checked = definition.input.safeParse(input);
        if (!checked.success)
          throw new WorkflowInputError(definition.id, issuesFromZod(checked.error.issues, 'input'));
        value = checked.data;
      }
      const instanceId = startOptions.instanceId ?? newEventId();
      if (typeof instanceId !== 'string' || !INSTANCE_ID.test(instanceId)) {
        throw new TypeError(`start: instanceId must be 1-200 characters without spaces, got "${instanceId}"`);
      }
      await ensureMigrated();
      const streamId = workflowStreamId(definition.id, instanceId);
      const tenantId = startOptions.tenantId ?? store.tenantId ?? DEFAULT_TENANT;
      const correlationId = startOptions.correlationId ?? instanceId;
      const now = Date.now();
      const data: EventData<typeof WorkflowStarted> = {
        instanceId,
        workflowId: definition.id,
        workflowVersion: definition.version,
        input: value === undefined ? null : JSON.parse(JSON.stringify(value)),
        correlationId,
        ...(startOptions.causationId === undefined ? {} : { causationId: startOptions.causationId }),
        startedAt: now,
        ...(definition.slaMs === undefined ? {} : { slaDeadline: now + definition.slaMs }),
        ...(definition.timeoutMs === undefined ? {} : { deadline: now + definition.timeoutMs }),
      };
      const event = createEvent(WorkflowStarted, data, {
        source,
        tenantId,
        correlationId,
        subject: instanceId,
        ...(startOptions.causationId === undefined ? {} : { causationId: startOptions.causationId }),
      });
      // Started in a worker with room to spare, the instance is leased to it and runs without a claim:
      // its drive stores the start together with its first step's start, in one append.
      const inline = phase === 'running' && active.size < concurrency && !active.has(instanceId);
      const row = {
        instanceId,
        workflowId: definition.id,
        workflowVersion: definition.version,
        tenantId,
        streamId,
        slaDeadline: data.slaDeadline ?? null,
        now,
        lease: inline ? { owner: workerId, until: now + leaseTtlMs } : undefined,
      };
      let created: boolean;
      if (inline) {
        const outcome = await new Promise<boolean | Error>((stored) => {
          launch(
            instanceId,
            { owner: workerId, epoch: 1 },
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
          kick();
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
      metrics?.started.inc({ workflow: definition.id });
      return result;
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

    async get(instanceId): Promise<WorkflowInstanceView> {
      await ensureMigrated();
      const row = await backend.get(instanceId);
      if (row === undefined) throw new WorkflowInstanceNotFoundError(instanceId);
      const page = await store.readStream(row.streamId);
      const state = foldHistory(
        page.events.map((e) => ({ type: e.event.type, data: e.event.data, time: e.recordedAt.getTime() })),
        row.tenantId,
      );
      if (state === undefined) throw new WorkflowInstanceNotFoundError(instanceId);
      const definition = registry.find(state.workflowId, state.workflowVersion);
      const outputs: Record<string, unknown> = {};
      for (const step of state.steps) {
        if (step !== undefined && (step.status === 'completed' || step.status === 'compensated')) {
          outputs[step.name] = step.output;
        }
      }
      const names = definition?.steps.map((s) => s.name) ?? state.steps.map((s) => s?.name ?? '');
      return {
        instanceId,
        workflowId: state.workflowId,
        workflowVersion: state.workflowVersion,
        tenantId: row.tenantId,
        status: isTerminal(state.status) ? state.status : row.status,
        currentStep: row.step,
        input: state.input,
        outputs,
        output: state.status === 'completed' ? state.output : undefined,
        error: state.error,
        steps: names.map((name, index) => {
          const step = state.steps[index];
          return {
            name,
            status: step?.status ?? 'pending',
            attempt: step?.attempt ?? 0,
            output: step?.output,
            error: step?.error,
          };
        }),
        compensation:
          state.compensation === undefined
            ? undefined
            : {
                reason: state.compensation.reason,
                steps: state.compensation.order.map((index) => names[index] ?? String(index)),
              },
        startedAt: state.startedAt,
        endedAt: state.endedAt,
        slaDeadline: state.slaDeadline,
        slaBreached: state.slaBreached,
        deadline: state.deadline,
        leaseOwner: row.leaseOwner,
        history: page.events.map((e) => ({
          version: e.version,
          type: e.event.type,
          recordedAt: e.recordedAt.getTime(),
          data: e.event.data,
        })),
      };
    },

    async list(listOptions: ListOptions = {}) {
      await ensureMigrated();
      const query: InstanceQuery = {};
      if (listOptions.status !== undefined) {
        query.status = typeof listOptions.status === 'string' ? [listOptions.status] : listOptions.status;
      }
      if (typeof listOptions.definition === 'string') query.workflowId = listOptions.definition;
      else if (listOptions.definition !== undefined) {
        query.workflowId = listOptions.definition.id;
        query.workflowVersion = listOptions.definition.version;
      }
      if (listOptions.tenantId !== undefined) query.tenantId = listOptions.tenantId;
      if (listOptions.slaRisk !== undefined && listOptions.slaRisk !== false) {
        const window = listOptions.slaRisk === true ? slaRiskWindowMs : listOptions.slaRisk.withinMs;
        query.slaDeadlineBefore = Date.now() + window;
      }
      if (listOptions.limit !== undefined) query.limit = listOptions.limit;
      return backend.list(query);
    },

    async waitForEnd(instanceId, waitOptions = {}) {
      const timeoutMs = waitOptions.timeoutMs ?? 30_000;
      const deadline = Date.now() + timeoutMs;
      let waiters = endWaiters.get(instanceId);
      if (waiters === undefined) {
        waiters = new Set();
        endWaiters.set(instanceId, waiters);
      }
      let wake: () => void = () => {};
      const set = waiters;
      try {
        for (;;) {
          const row = await backend.get(instanceId);
          // An unknown instance may yet be started (by a trigger whose event is on its way): wait for it too.
          if (row !== undefined && isTerminal(row.status)) return await engine.get(instanceId);
          const left = deadline - Date.now();
          if (left <= 0) throw new WorkflowWaitTimeoutError(instanceId, timeoutMs, row?.status);
          // Ends in this process wake the waiter at once; others are seen by polling the row.
          await new Promise<void>((resolve) => {
            const timer = setTimeout(done, Math.min(left, 100));
            wake = done;
            set.add(done);
            function done() {
              clearTimeout(timer);
              set.delete(done);
              resolve();
            }
          });
        }
      } finally {
        set.delete(wake);
        if (set.size === 0) endWaiters.delete(instanceId);
      }
    },

    async startWorker() {
      ensureOpen('startWorker');
      if (phase === 'running') return;
      await ensureMigrated();
      const { publisher, publishesBreaches } = await startBus();
      deps = {
        store,
        backend,
        registry,
        publisher,
        publishesBreaches,
        metrics,
        logger,
        source,
        onTransition: options.onTransition,
        kick,
        wakeAt,
        closing: () => phase !== 'running',
      };
      phase = 'running';
      lastRenewal = Date.now();
      renewTimer = setInterval(() => void renewLeases(), Math.max(50, Math.floor(leaseTtlMs / 3)));
      loop = pollLoop();
      logger.info({ workerId, workflows: registry.keys() }, 'workflow worker started');
    },

    running: () => active.size,

    async close(deadlineMs = 10_000) {
      if (phase === 'closed' || phase === 'closing') return;
      const wasRunning = phase === 'running';
      phase = 'closing';
      if (wasRunning) {
        kick();
        await loop;
        await router?.close(deadlineMs);
        const drained = (entries: ActiveInstance[], ms: number) =>
          new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(false), ms);
            void Promise.all(entries.map((e) => e.done)).then(() => {
              clearTimeout(timer);
              resolve(true);
            });
          });
        if (!(await drained([...active.values()], deadlineMs))) {
          logger.warn(
            { running: active.size },
            'instances still running at the close deadline; abandoning them',
          );
          for (const entry of active.values()) entry.stop.abort(new WorkflowEngineClosedError('close'));
          await drained([...active.values()], 1_000);
        }
        clearInterval(renewTimer);
        if (wakeTimer !== undefined) clearTimeout(wakeTimer);
        await ownPublisher?.close();
      }
      phase = 'closed';
    },

    [Symbol.asyncDispose]() {
      return engine.close();
    },
  };
  return engine;
}
