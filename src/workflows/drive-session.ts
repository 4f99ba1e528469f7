import type { Logger } from 'pino';
import type { CloudEvent } from '../events/cloud-event.ts';
import { createEvent } from '../events/create-event.ts';
import type { EventData } from '../events/define-event.ts';
import type { WorkflowDefinition } from './define-workflow.ts';
import type { DriveHandle, DriverDependencies, DriveStart, NewInstanceStart } from './drive-types.ts';
import {
  evolve,
  foldHistory,
  type HistoryEvent,
  type InstanceState,
  initialState,
  type WorkflowStatus,
} from './instance-state.ts';
import type { InboxItem, NewEvent } from './planner.ts';
import { StepStarted } from './workflow-events.ts';

/**
 * One drive of one instance: its state as folded so far, the events applied but not stored yet, and what
 * it knows of its inbox. The driver's pieces (run a step, persist a transition) read and advance it.
 */
export interface Drive {
  readonly deps: DriverDependencies;
  readonly handle: DriveHandle;
  readonly definition: WorkflowDefinition;
  readonly log: Logger;
  readonly streamId: string;
  state: InstanceState;
  /** Events applied to `state` and not stored yet. */
  pending: CloudEvent[];
  /** Step runs started by this drive (`index:attempt:run`): their actions run here, not as re-runs. */
  readonly live: Set<string>;
  /** Inbox items the pending events consumed: deleted when they are stored. */
  consumed: number[];
  /** Whether the pending transition took a cancel from the inbox (its flag is cleared with it). */
  clearCancel: boolean;
  /** Inbox items read and not consumed yet, oldest first. */
  inbox: InboxItem[];
  /** The row's inbox version as last seen, and the one the engine has acted on. */
  inboxVersion: number;
  inboxSeen: number;
  /** False when the inbox may hold items not read yet. */
  inboxKnown: boolean;
  /** Stream version and reply wait key as stored. */
  committedVersion: number;
  committedWaitKey: string | null;
  /** A new instance's start until it is stored (or refused): `start()` waits on it. */
  unstored: NewInstanceStart | undefined;
}

/** `index:attempt:run`: names one execution of a step attempt. */
export const runKey = (index: number, attempt: number, run: number): string => `${index}:${attempt}:${run}`;

/** Whether the current run of the step at `index` was started by this drive. */
export function isLive(drive: Drive, index: number): boolean {
  const step = drive.state.steps[index];
  return step !== undefined && drive.live.has(runKey(index, step.attempt, step.run));
}

/** Tells a waiting `start()` how its instance's start went (once; later calls do nothing). */
export function settleStart(drive: Pick<Drive, 'unstored'>, outcome: boolean | Error): void {
  drive.unstored?.stored(outcome);
  drive.unstored = undefined;
}

/** The reply key the instance waits on in this state, or null. */
export function waitKeyOf(state: InstanceState): string | null {
  if (state.status !== 'running') return null;
  const step = state.steps[state.current];
  return step?.status === 'started' && step.commandId !== undefined ? step.commandId : null;
}

/** The row's status: a running instance that parks is `waiting`. */
export function rowStatus(state: InstanceState, parking: boolean): WorkflowStatus {
  if (state.status === 'running' && parking) return 'waiting';
  return state.status;
}

/** Name of the step the instance is on (or compensating); null once ended. */
export function stepName(definition: WorkflowDefinition, state: InstanceState): string | null {
  if (state.endedAt !== undefined) return null;
  if (state.status === 'compensating' || state.status === 'needs_operator') {
    const index = state.compensation?.order[state.compensation.done];
    return index === undefined ? null : (definition.steps[index]?.name ?? null);
  }
  return definition.steps[state.current]?.name ?? null;
}

/** Wraps planned events in envelopes, queues them for the next flush and folds them into the state. */
export function applyEvents(drive: Drive, events: readonly NewEvent[], now: number): void {
  const { source } = drive.deps;
  const { instanceId } = drive.handle;
  for (const { definition: eventDefinition, data } of events) {
    const event = createEvent(eventDefinition, data as never, {
      source,
      tenantId: drive.state.tenantId,
      correlationId: drive.state.correlationId,
      subject: instanceId,
    }) as CloudEvent;
    drive.pending.push(event);
    const history: HistoryEvent = { type: event.type, data: event.data, time: now };
    drive.state = evolve(drive.state, history);
    if (event.type === StepStarted.type) {
      const started = event.data as EventData<typeof StepStarted>;
      drive.live.add(runKey(started.index, started.attempt, started.run));
    }
  }
}

/**
 * Loads the instance a drive starts on: folds its history (or starts from a fresh WorkflowStarted) and
 * finds its definition. Undefined when it cannot be driven (the failure is logged, the row parked when
 * its history is gone).
 */
export async function loadDrive(
  deps: DriverDependencies,
  handle: DriveHandle,
  start: DriveStart,
  log: Logger,
): Promise<Drive | undefined> {
  const { instanceId, lease } = handle;
  let state: InstanceState | undefined;
  let inboxVersion = 0;
  let inboxSeen = 0;
  let inboxKnown = false;
  try {
    if (start.kind === 'new') {
      state = initialState(start.event.data!, start.tenantId);
      state.streamVersion = 0;
      inboxKnown = true;
    } else {
      const page = await deps.store.readStream(start.streamId);
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
    if (start.kind === 'new') start.stored(error as Error);
    return undefined;
  }
  if (state === undefined) {
    // The history is gone (deleted or archived): park the row for good rather than claim it forever.
    log.error({ streamId: start.streamId }, 'instance row without a history stream; parked for an operator');
    await deps.backend
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
    return undefined;
  }
  const definition = deps.registry.find(state.workflowId, state.workflowVersion);
  if (definition === undefined) {
    log.error({ workflowId: state.workflowId, version: state.workflowVersion }, 'definition not registered');
    return undefined;
  }
  const drive: Drive = {
    deps,
    handle,
    definition,
    log,
    streamId: start.streamId,
    state,
    pending: [],
    live: new Set(),
    consumed: [],
    clearCancel: false,
    inbox: [],
    inboxVersion,
    inboxSeen,
    inboxKnown,
    committedVersion: state.streamVersion,
    committedWaitKey: waitKeyOf(state),
    unstored: start.kind === 'new' ? start : undefined,
  };
  if (start.kind === 'new') {
    drive.pending.push(start.event);
    state.streamVersion = 1;
  }
  return drive;
}
