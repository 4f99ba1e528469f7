import type { Logger } from 'pino';
import type { Publisher } from '../bus/publisher-port.ts';
import type { CloudEvent } from '../events/cloud-event.ts';
import { createEvent } from '../events/create-event.ts';
import type { EventData } from '../events/define-event.ts';
import { WrongExpectedVersionError } from '../store/errors.ts';
import type { EventStore, StoredEvent } from '../store/event-store.ts';
import type { InstanceInsert, InstanceWrite, Lease, WorkflowBackend } from './backend.ts';
import type { CompensationContext, WorkflowDefinition } from './define-workflow.ts';
import { LeaseLostError, NonRetryableError, StepTimeoutError } from './errors.ts';
import {
  evolve,
  foldHistory,
  type HistoryEvent,
  type InstanceState,
  initialState,
  type WorkflowStatus,
} from './instance-state.ts';
import type { WorkflowMetrics } from './metrics.ts';
import {
  errorInfoOf,
  type InboxItem,
  type NewEvent,
  plan,
  stepCompletion,
  stepContext,
  stepFailure,
} from './planner.ts';
import type { WorkflowRegistry } from './registry.ts';
import {
  CommandPublished,
  CompensationFailed,
  StepCompensated,
  StepCompleted,
  StepFailed,
  StepStarted,
  WorkflowCancelled,
  WorkflowCompensated,
  WorkflowCompleted,
  WorkflowFailed,
  WorkflowNeedsOperator,
  WorkflowSlaBreached,
  type WorkflowStarted,
  WorkflowTimedOut,
} from './workflow-events.ts';

/** A transition as observers see it, once stored. */
export interface WorkflowTransition {
  instanceId: string;
  workflowId: string;
  workflowVersion: number;
  /** Row status after the transition. */
  status: WorkflowStatus;
  /** The events stored by the transition. */
  events: readonly StoredEvent[];
}

/** What the driver of one instance needs from its engine. */
export interface DriverDependencies {
  store: EventStore;
  backend: WorkflowBackend;
  registry: WorkflowRegistry;
  publisher: Publisher | undefined;
  /** Whether the bus catalog routes SLA breaches (so they are published). */
  publishesBreaches: boolean;
  metrics: WorkflowMetrics | undefined;
  logger: Logger;
  /** CloudEvents `source` of history events. */
  source: string;
  onTransition: ((transition: WorkflowTransition) => void | Promise<void>) | undefined;
  /** Asks the engine to look for due work now (an inbox item arrived while parking). */
  kick(): void;
  /** Asks the engine to look for due work at this time (ms since the epoch). */
  wakeAt(time: number): void;
  /** Whether the engine is closing: start nothing new, hand the instance back. */
  closing(): boolean;
}

/** How a driven instance talks to its engine while it runs. */
export interface DriveHandle {
  readonly instanceId: string;
  readonly lease: Lease;
  /** Aborted when the lease is lost or the engine stops hard: stop at once and write nothing. */
  readonly stop: AbortSignal;
  /** Aborts the running action (if any) because of a cancel; the driver then reads its inbox. */
  readonly cancel: AbortSignal;
}

/**
 * Where a drive starts: a claimed row (history read from the store), or a new instance whose
 * WorkflowStarted the drive stores itself, with its row and its first step's start, in one append.
 */
export type DriveStart =
  | {
      kind: 'claimed';
      streamId: string;
      tenantId: string;
      inboxVersion: number;
      inboxSeen: number;
    }
  | {
      kind: 'new';
      streamId: string;
      tenantId: string;
      /** The WorkflowStarted event to store first. */
      event: CloudEvent<EventData<typeof WorkflowStarted>>;
      /** The instance's row, inserted in the same transaction. */
      row: InstanceInsert;
      /** Told once the start is stored (true), found to exist already (false), or failed. */
      stored(outcome: boolean | Error): void;
    };

const TERMINAL_TYPES = new Set([
  WorkflowCompleted.type,
  WorkflowCompensated.type,
  WorkflowFailed.type,
  WorkflowTimedOut.type,
  WorkflowCancelled.type,
]);

class CancelledSignal extends Error {
  readonly code = 'KEEL_WORKFLOW_CANCELLED';
  constructor() {
    super('the instance was cancelled');
    this.name = 'CancelledSignal';
  }
}

class WorkflowDeadline extends Error {
  readonly code = 'KEEL_WORKFLOW_DEADLINE';
  constructor() {
    super("the instance's time-out passed");
    this.name = 'WorkflowDeadline';
  }
}

/** Resolves with the work's result, or rejects with the signal's reason as soon as it aborts. */
function raceAbort<T>(work: () => unknown, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve()
      .then(work)
      .then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value as T);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
  });
}

/** JSON as it will be read back from the store (undefined becomes null, dates strings, ...). */
const asJson = (value: unknown): unknown => (value === undefined ? null : JSON.parse(JSON.stringify(value)));

/** The reply key the instance waits on in this state, or null. */
function waitKeyOf(state: InstanceState): string | null {
  if (state.status !== 'running') return null;
  const step = state.steps[state.current];
  return step?.status === 'started' && step.commandId !== undefined ? step.commandId : null;
}

function rowStatus(state: InstanceState, parking: boolean): WorkflowStatus {
  if (state.status === 'running' && parking) return 'waiting';
  return state.status;
}

function stepName(definition: WorkflowDefinition, state: InstanceState): string | null {
  if (state.endedAt !== undefined) return null;
  if (state.status === 'compensating' || state.status === 'needs_operator') {
    const index = state.compensation?.order[state.compensation.done];
    return index === undefined ? null : (definition.steps[index]?.name ?? null);
  }
  return definition.steps[state.current]?.name ?? null;
}

/**
 * Runs one instance while its lease is held: folds its history (or starts from a fresh WorkflowStarted),
 * then plans, appends, and runs actions, commands and compensations until the instance parks (a timer,
 * a reply, a signal) or ends. Every append is fenced by the lease and the stream's expected version, and
 * carries the row write (status, timers, inbox, waits) in its transaction. Resolves when done; never throws.
 */
export async function driveInstance(
  deps: DriverDependencies,
  handle: DriveHandle,
  start: DriveStart,
): Promise<void> {
  const { store, backend, logger } = deps;
  const { instanceId, lease } = handle;
  const log = logger.child({ instanceId });
  let state: InstanceState | undefined;
  let inboxVersion = 0;
  let inboxSeen = 0;
  let inboxKnown = false;

  // A new instance's start is stored by the first flush; until then `start()` waits on `stored`.
  let unstored = start.kind === 'new' ? start : undefined;
  const settleStart = (outcome: boolean | Error) => {
    unstored?.stored(outcome);
    unstored = undefined;
  };
  try {
    if (start.kind === 'new') {
      state = initialState(start.event.data!, start.tenantId);
      state.streamVersion = 0;
      inboxKnown = true;
    } else {
      const page = await store.readStream(start.streamId);
      state = foldHistory(
        page.events.map((e) => ({ type: e.event.type, data: e.event.data, time: e.recordedAt.getTime() })),
        page.events[0]?.tenantId ?? start.tenantId,
      );
      inboxVersion = start.inboxVersion;
      inboxSeen = start.inboxSeen;
      inboxKnown = inboxVersion === inboxSeen;
    }
  } catch (error) {
    log.error({ err: error }, 'cannot read the instance history; it will be retried when its lease runs out');
    settleStart(error as Error);
    return;
  }
  if (state === undefined) {
    // The history is gone (deleted or archived): park the row for good rather than claim it forever.
    log.error({ streamId: start.streamId }, 'instance row without a history stream; parked for an operator');
    await backend
      .release({
        instanceId,
        lease,
        status: 'needs_operator',
        step: null,
        streamVersion: 0,
        slaBreached: false,
        endedAt: null,
        now: Date.now(),
        inboxSeen,
        clearCancel: false,
        release: { wakeAt: null },
        consumed: [],
        waitKey: undefined,
      })
      .catch((error: unknown) => log.error({ err: error }, 'cannot park the instance'));
    return;
  }
  const definition = deps.registry.find(state.workflowId, state.workflowVersion);
  if (definition === undefined) {
    log.error({ workflowId: state.workflowId, version: state.workflowVersion }, 'definition not registered');
    return;
  }

  const streamId = start.streamId;
  const live = new Set<string>();
  const runKey = (index: number, attempt: number, run: number) => `${index}:${attempt}:${run}`;
  let committedVersion = state.streamVersion;
  let committedWaitKey = waitKeyOf(state);
  let pending: CloudEvent[] = [];
  if (start.kind === 'new') {
    pending.push(start.event);
    state.streamVersion = 1;
  }
  let consumed: number[] = [];
  let clearCancel = false;
  let inbox: InboxItem[] = [];

  const apply = (events: readonly NewEvent[], now: number) => {
    for (const { definition: eventDefinition, data } of events) {
      const event = createEvent(eventDefinition, data as never, {
        source: deps.source,
        tenantId: state!.tenantId,
        correlationId: state!.correlationId,
        subject: instanceId,
      }) as CloudEvent;
      pending.push(event);
      const history: HistoryEvent = { type: event.type, data: event.data, time: now };
      state = evolve(state!, history);
      if (event.type === StepStarted.type) {
        const started = event.data as EventData<typeof StepStarted>;
        live.add(runKey(started.index, started.attempt, started.run));
      }
    }
  };

  const afterCommit = async (stored: readonly StoredEvent[], status: WorkflowStatus) => {
    const { metrics } = deps;
    const workflow = definition.id;
    for (const { event } of stored) {
      const data = event.data as Record<string, unknown>;
      if (metrics !== undefined) {
        switch (event.type) {
          case StepCompleted.type:
          case StepFailed.type:
          case StepCompensated.type:
            metrics.stepDuration.observe(
              {
                workflow,
                step: String(data.step),
                outcome:
                  event.type === StepCompleted.type
                    ? 'completed'
                    : event.type === StepFailed.type
                      ? 'failed'
                      : 'compensated',
              },
              Number(data.durationMs) / 1000,
            );
            break;
          case WorkflowCompleted.type:
            metrics.completed.inc({ workflow });
            break;
          case WorkflowCompensated.type:
            metrics.compensated.inc({ workflow, outcome: 'compensated' });
            break;
          case WorkflowTimedOut.type:
            metrics.compensated.inc({ workflow, outcome: 'timed_out' });
            break;
          case WorkflowCancelled.type:
            metrics.compensated.inc({ workflow, outcome: 'cancelled' });
            break;
          case WorkflowFailed.type:
            metrics.failed.inc({ workflow });
            break;
          case WorkflowNeedsOperator.type:
            metrics.needsOperator.inc({ workflow });
            break;
          case WorkflowSlaBreached.type:
            metrics.slaBreaches.inc({ workflow, scope: String(data.scope) });
            break;
        }
      }
      if (event.type === WorkflowSlaBreached.type && deps.publisher !== undefined && deps.publishesBreaches) {
        // The breach is in the history already; the bus copy is for alerting, so a failure is only logged.
        deps.publisher
          .publish(WorkflowSlaBreached, data as EventData<typeof WorkflowSlaBreached>, {
            tenantId: state!.tenantId,
            correlationId: state!.correlationId,
          })
          .catch((error: unknown) => log.warn({ err: error }, 'cannot publish an SLA breach'));
      }
    }
    if (deps.onTransition !== undefined) {
      await deps.onTransition({
        instanceId,
        workflowId: definition.id,
        workflowVersion: definition.version,
        status,
        events: stored,
      });
    }
  };

  /** Stores the pending events with the row write; `release` gives the lease up. False: stop driving. */
  const flush = async (release: { wakeAt: number | null } | undefined): Promise<boolean> => {
    if (handle.stop.aborted) return false;
    const current = state!;
    const now = Date.now();
    const waitKey = waitKeyOf(current);
    const status = rowStatus(current, release !== undefined);
    const write: InstanceWrite = {
      instanceId,
      lease,
      status,
      step: stepName(definition, current),
      streamVersion: current.streamVersion,
      slaBreached: current.slaBreached,
      endedAt: current.endedAt ?? null,
      now,
      inboxSeen,
      clearCancel,
      release,
      consumed,
      waitKey: waitKey === committedWaitKey ? undefined : waitKey,
    };
    try {
      if (pending.length === 0) {
        if (release === undefined) return true;
        if (!(await backend.release(write))) {
          log.warn('lease lost before the instance could park');
          return false;
        }
        // Not knowing the inbox version here, look again soon in case an item arrived meanwhile.
        if (release.wakeAt !== null) deps.wakeAt(release.wakeAt);
        return true;
      }
      const out = { inboxVersion: inboxVersion };
      const writeRow = backend.writeHook(write, out);
      const insertRow = unstored === undefined ? undefined : backend.insertHook(unstored.row);
      const result = await store.append(streamId, pending, {
        expectedVersion: insertRow === undefined ? committedVersion : 'no_stream',
        tenantId: current.tenantId,
        withinTransaction:
          insertRow === undefined
            ? writeRow
            : async (context) => {
                await insertRow(context);
                await writeRow(context);
              },
      });
      settleStart(true);
      inboxVersion = out.inboxVersion;
      committedVersion = current.streamVersion;
      committedWaitKey = waitKey;
      pending = [];
      consumed = [];
      clearCancel = false;
      if (inboxVersion !== inboxSeen) {
        inboxKnown = false;
        if (release !== undefined) deps.kick();
      }
      if (release?.wakeAt !== undefined && release.wakeAt !== null) deps.wakeAt(release.wakeAt);
      await afterCommit(result.events, status);
      return true;
    } catch (error) {
      if (unstored !== undefined) {
        // The start itself was refused: an instance with this id exists (a dedupe), or the store failed.
        settleStart(error instanceof WrongExpectedVersionError ? false : (error as Error));
        return false;
      }
      if (error instanceof LeaseLostError || error instanceof WrongExpectedVersionError) {
        log.warn({ err: error }, 'another process took the instance over; this one stops');
      } else {
        log.error(
          { err: error },
          'cannot store a transition; the instance is retried when its lease runs out',
        );
      }
      return false;
    }
  };

  const abortReason = (signal: AbortSignal) => signal.reason as unknown;

  /**
   * A signal for one effect: aborted by a lost lease, a hard stop, the step's time-out, and for forward
   * actions a cancel or the instance's time-out (a compensation runs to its end whatever happens).
   */
  const effectSignal = (
    timeoutAt: number | undefined,
    stepLabel: string,
    timeoutMs: number | undefined,
    forward: boolean,
  ) => {
    const controller = new AbortController();
    const timers: NodeJS.Timeout[] = [];
    const abort = (reason: unknown) => {
      if (!controller.signal.aborted) controller.abort(reason);
    };
    const onStop = () => abort(abortReason(handle.stop));
    const onCancelAbort = () => abort(new CancelledSignal());
    handle.stop.addEventListener('abort', onStop, { once: true });
    if (forward) handle.cancel.addEventListener('abort', onCancelAbort, { once: true });
    if (handle.stop.aborted) onStop();
    if (forward && handle.cancel.aborted) onCancelAbort();
    const now = Date.now();
    if (timeoutAt !== undefined) {
      timers.push(
        setTimeout(
          () => abort(new StepTimeoutError(stepLabel, timeoutMs ?? 0)),
          Math.max(0, timeoutAt - now),
        ),
      );
    }
    const deadline = forward && state!.status === 'running' ? state!.deadline : undefined;
    if (deadline !== undefined)
      timers.push(setTimeout(() => abort(new WorkflowDeadline()), Math.max(0, deadline - now)));
    return {
      signal: controller.signal,
      dispose() {
        for (const timer of timers) clearTimeout(timer);
        handle.stop.removeEventListener('abort', onStop);
        handle.cancel.removeEventListener('abort', onCancelAbort);
      },
    };
  };

  /** Runs the started step's action; false: stop driving (lease lost, hard stop). */
  const runAction = async (index: number): Promise<boolean> => {
    const spec = definition.steps[index]!;
    const step = state!.steps[index]!;
    const effect = effectSignal(step.timeoutAt, spec.name, spec.timeoutMs, true);
    const context = stepContext(state!, spec, step.attempt, effect.signal);
    try {
      const output = await raceAbort(() => spec.action!(context as never), effect.signal);
      if (handle.stop.aborted) return false;
      const now = Date.now();
      const completion = stepCompletion(spec, step, asJson(output), now);
      completion.data.instanceId = instanceId;
      apply([completion], now);
      return true;
    } catch (error) {
      if (handle.stop.aborted) return false;
      // Cancelled mid-action: nothing is recorded for the attempt; the inbox's cancel decides what follows.
      if (error instanceof CancelledSignal) {
        inboxKnown = false;
        return true;
      }
      const now = Date.now();
      const timedOut = error instanceof StepTimeoutError || error instanceof WorkflowDeadline;
      const failure = stepFailure(
        spec,
        step,
        timedOut ? 'timeout' : 'error',
        errorInfoOf(error),
        now,
        !(error instanceof NonRetryableError),
      );
      failure.data.instanceId = instanceId;
      apply([failure], now);
      return true;
    } finally {
      effect.dispose();
    }
  };

  /** Publishes the started command step's command; false: stop driving. */
  const publishCommand = async (index: number): Promise<boolean> => {
    const spec = definition.steps[index]!;
    const step = state!.steps[index]!;
    const command = spec.command!;
    const now = Date.now();
    try {
      if (deps.publisher === undefined) {
        throw new NonRetryableError(
          `step "${spec.name}" publishes a command, but the engine has no bus: pass the bus option`,
          'KEEL_WORKFLOW_NO_BUS',
        );
      }
      const data = command.data(stepContext(state!, spec, step.attempt, handle.stop) as never);
      // The command's id is fixed when the step starts, so a re-publish after a crash is the same event.
      await deps.publisher.publish(command.event, data as never, {
        id: step.commandId!,
        correlationId: state!.correlationId,
        causationId: instanceId,
        tenantId: state!.tenantId,
      });
    } catch (error) {
      if (handle.stop.aborted) return false;
      const failure = stepFailure(
        spec,
        step,
        'error',
        errorInfoOf(error),
        now,
        !(error instanceof NonRetryableError),
      );
      failure.data.instanceId = instanceId;
      apply([failure], Date.now());
      return true;
    }
    apply(
      [
        {
          definition: CommandPublished,
          data: {
            instanceId,
            step: spec.name,
            index,
            attempt: step.attempt,
            commandId: step.commandId!,
            commandType: command.event.type,
          },
        },
      ],
      Date.now(),
    );
    return true;
  };

  /** Runs the compensation of a step; false: stop driving. */
  const compensate = async (index: number): Promise<boolean> => {
    const spec = definition.steps[index]!;
    const step = state!.steps[index]!;
    const attempt = step.compensationAttempt + 1;
    const started = Date.now();
    const effect = effectSignal(
      spec.timeoutMs === undefined ? undefined : started + spec.timeoutMs,
      `${spec.name} (compensation)`,
      spec.timeoutMs,
      false,
    );
    const context: CompensationContext = {
      ...stepContext(state!, spec, attempt, effect.signal),
      idempotencyKey: `${instanceId}:${spec.name}:compensate`,
      output: step.output,
      reason: state!.compensation!.reason,
    };
    try {
      await raceAbort(() => spec.compensate!(context as never), effect.signal);
      if (handle.stop.aborted) return false;
      const now = Date.now();
      apply(
        [
          {
            definition: StepCompensated,
            data: { instanceId, step: spec.name, index, attempt, durationMs: Math.max(0, now - started) },
          },
        ],
        now,
      );
      return true;
    } catch (error) {
      if (handle.stop.aborted) return false;
      const now = Date.now();
      const policy = definition.compensationRetry;
      const final = attempt >= policy.maxAttempts || error instanceof NonRetryableError;
      const info = errorInfoOf(error);
      const retryAt =
        now + Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** (attempt - 1));
      const events: NewEvent[] = [
        {
          definition: CompensationFailed,
          data: {
            instanceId,
            step: spec.name,
            index,
            attempt,
            error: info,
            final,
            ...(final ? {} : { retryAt }),
          },
        },
      ];
      if (final)
        events.push({
          definition: WorkflowNeedsOperator,
          data: { instanceId, step: spec.name, error: info },
        });
      apply(events, now);
      return true;
    } finally {
      effect.dispose();
    }
  };

  try {
    for (;;) {
      if (handle.stop.aborted) return;
      if (!inboxKnown) {
        const read = await backend.readInbox(instanceId);
        const known = new Set(inbox.map((item) => item.id));
        const fresh = read.items.filter((item) => !known.has(item.id) && !consumed.includes(item.id));
        inbox = [...inbox, ...fresh];
        inboxVersion = read.version;
        inboxSeen = read.version;
        inboxKnown = true;
      }
      const now = Date.now();
      const next = plan(definition, state, now, inbox, (index) => {
        const step = state!.steps[index];
        return step !== undefined && live.has(runKey(index, step.attempt, step.run));
      });
      switch (next.kind) {
        case 'append': {
          apply(next.events, now);
          for (const item of next.consumed) {
            consumed.push(item.id);
            if (item.kind === 'cancel') clearCancel = true;
          }
          const taken = new Set(next.consumed.map((item) => item.id));
          inbox = inbox.filter((item) => !taken.has(item.id));
          if (TERMINAL_TYPES.has(pending.at(-1)?.type ?? '')) {
            // The end is stored with the lease given up, in one transaction.
            await flush({ wakeAt: null });
            return;
          }
          continue;
        }
        case 'discard': {
          const ids = next.items.map((item) => item.id);
          await backend.discardInbox(ids);
          const dropped = new Set(ids);
          inbox = inbox.filter((item) => !dropped.has(item.id));
          continue;
        }
        case 'run':
        case 'publish':
        case 'compensate': {
          if (deps.closing()) {
            // Shutting down: hand the instance back at once so another process carries on.
            await flush({ wakeAt: Date.now() });
            return;
          }
          if (!(await flush(undefined))) return;
          const proceed =
            next.kind === 'run'
              ? await runAction(next.index)
              : next.kind === 'publish'
                ? await publishCommand(next.index)
                : await compensate(next.index);
          if (!proceed) return;
          continue;
        }
        case 'park':
          await flush({ wakeAt: next.wakeAt });
          return;
        case 'end':
          await flush({ wakeAt: null });
          return;
      }
    }
  } catch (error) {
    log.error({ err: error }, 'instance driver failed; the instance is retried when its lease runs out');
    settleStart(error as Error);
  } finally {
    settleStart(new Error(`instance "${instanceId}" was not started: its drive stopped first`));
  }
}
