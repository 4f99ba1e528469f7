import type { EventData } from '../events/define-event.ts';
import type { CompensationReason } from './define-workflow.ts';
import {
  CommandPublished,
  CompensationFailed,
  CompensationStarted,
  type ErrorInfo,
  SignalReceived,
  StepCompensated,
  StepCompleted,
  StepFailed,
  StepStarted,
  WorkflowCancelled,
  WorkflowCompensated,
  WorkflowCompleted,
  WorkflowFailed,
  WorkflowNeedsOperator,
  WorkflowResumed,
  WorkflowSlaBreached,
  WorkflowStarted,
  WorkflowTimedOut,
} from './workflow-events.ts';

/** Where an instance is in its life. Terminal: completed, compensated, failed, timed_out, cancelled. */
export type WorkflowStatus =
  | 'running'
  | 'waiting'
  | 'compensating'
  | 'needs_operator'
  | 'completed'
  | 'compensated'
  | 'failed'
  | 'timed_out'
  | 'cancelled';

/** Statuses an instance never leaves. */
export const TERMINAL_STATUSES: readonly WorkflowStatus[] = [
  'completed',
  'compensated',
  'failed',
  'timed_out',
  'cancelled',
];

/** Where one step is. */
export type StepStatus = 'pending' | 'started' | 'failed' | 'completed' | 'compensated';

/** One step, as its events leave it. Times are milliseconds since the epoch. */
export interface StepState {
  index: number;
  name: string;
  status: StepStatus;
  /** Attempt of the latest StepStarted, from 1; 0 before the first. */
  attempt: number;
  /** Executions within the current attempt (a crash mid-attempt makes it more than 1). */
  run: number;
  /** Start of the current execution. */
  startedAt: number | undefined;
  /** Start of the step's first attempt: what its SLA counts from. */
  firstStartedAt: number | undefined;
  timeoutAt: number | undefined;
  commandId: string | undefined;
  commandPublished: boolean;
  wakeAt: number | undefined;
  retryAt: number | undefined;
  output: unknown;
  error: ErrorInfo | undefined;
  slaBreached: boolean;
  compensationAttempt: number;
  compensationRetryAt: number | undefined;
}

/** The saga's undo phase. */
export interface CompensationState {
  reason: CompensationReason;
  /** Step indexes, in the order they are compensated (reverse completion order). */
  order: number[];
  /** How many of `order` are compensated. */
  done: number;
  failedStep: string | undefined;
  error: ErrorInfo | undefined;
  detail: string | undefined;
}

/** A received signal. */
export interface SignalState {
  seq: number;
  name: string;
  payload: unknown;
  consumed: boolean;
}

/** An instance, folded from its history. Times are milliseconds since the epoch. */
export interface InstanceState {
  instanceId: string;
  workflowId: string;
  workflowVersion: number;
  tenantId: string;
  correlationId: string;
  causationId: string | undefined;
  input: unknown;
  startedAt: number;
  slaDeadline: number | undefined;
  slaBreached: boolean;
  deadline: number | undefined;
  /** `running` while moving forward; `waiting` is a row status only (set when the instance parks). */
  status: WorkflowStatus;
  /** Index of the step moving forward (steps before it are completed). */
  current: number;
  steps: StepState[];
  compensation: CompensationState | undefined;
  signals: SignalState[];
  /** Version of the instance's stream once these events are stored. */
  streamVersion: number;
  endedAt: number | undefined;
  /** Output of the last step, once completed. */
  output: unknown;
  /** The failure that ended or is undoing the instance. */
  error: ErrorInfo | undefined;
}

/** A history event as the fold reads it: type, data and when it was recorded. */
export interface HistoryEvent {
  type: string;
  data: unknown;
  /** Milliseconds since the epoch. */
  time: number;
}

const newStep = (index: number, name: string): StepState => ({
  index,
  name,
  status: 'pending',
  attempt: 0,
  run: 0,
  startedAt: undefined,
  firstStartedAt: undefined,
  timeoutAt: undefined,
  commandId: undefined,
  commandPublished: false,
  wakeAt: undefined,
  retryAt: undefined,
  output: undefined,
  error: undefined,
  slaBreached: false,
  compensationAttempt: 0,
  compensationRetryAt: undefined,
});

/** State right after WorkflowStarted. */
export function initialState(started: EventData<typeof WorkflowStarted>, tenantId: string): InstanceState {
  return {
    instanceId: started.instanceId,
    workflowId: started.workflowId,
    workflowVersion: started.workflowVersion,
    tenantId,
    correlationId: started.correlationId,
    causationId: started.causationId,
    input: started.input,
    startedAt: started.startedAt,
    slaDeadline: started.slaDeadline,
    slaBreached: false,
    deadline: started.deadline,
    status: 'running',
    current: 0,
    steps: [],
    compensation: undefined,
    signals: [],
    streamVersion: 1,
    endedAt: undefined,
    output: undefined,
    error: undefined,
  };
}

/** The step at `index`, created (pending) when the history has not named it yet. */
export function stepAt(state: InstanceState, index: number, name: string): StepState {
  let step = state.steps[index];
  if (step === undefined) {
    for (let i = state.steps.length; i <= index; i++) state.steps[i] ??= newStep(i, i === index ? name : '');
    step = state.steps[index]!;
  }
  if (step.name === '') step.name = name;
  return step;
}

/** Outputs of the completed steps, by name. */
export function outputsOf(state: InstanceState): Record<string, unknown> {
  const outputs: Record<string, unknown> = {};
  for (const step of state.steps) {
    if (step !== undefined && (step.status === 'completed' || step.status === 'compensated')) {
      outputs[step.name] = step.output;
    }
  }
  return outputs;
}

/**
 * Applies one history event to the state (mutating it, and returning it): the engine's and `get`'s
 * only way to know an instance. Unknown types are skipped so older engines can read newer histories.
 */
export function evolve(state: InstanceState, event: HistoryEvent): InstanceState {
  state.streamVersion += 1;
  switch (event.type) {
    case StepStarted.type: {
      const data = event.data as EventData<typeof StepStarted>;
      const step = stepAt(state, data.index, data.step);
      step.status = 'started';
      step.attempt = data.attempt;
      step.run = data.run;
      step.startedAt = data.startedAt;
      step.firstStartedAt ??= data.startedAt;
      step.timeoutAt = data.timeoutAt;
      step.wakeAt = data.wakeAt;
      step.retryAt = undefined;
      if (data.commandId !== step.commandId) step.commandPublished = false;
      step.commandId = data.commandId;
      break;
    }
    case CommandPublished.type: {
      const data = event.data as EventData<typeof CommandPublished>;
      const step = stepAt(state, data.index, data.step);
      if (step.commandId === data.commandId) step.commandPublished = true;
      break;
    }
    case StepCompleted.type: {
      const data = event.data as EventData<typeof StepCompleted>;
      const step = stepAt(state, data.index, data.step);
      step.status = 'completed';
      step.output = data.output;
      step.error = undefined;
      if (data.signalSeq !== undefined) {
        const signal = state.signals.find((s) => s.seq === data.signalSeq);
        if (signal !== undefined) signal.consumed = true;
      }
      state.current = Math.max(state.current, data.index + 1);
      state.output = data.output;
      break;
    }
    case StepFailed.type: {
      const data = event.data as EventData<typeof StepFailed>;
      const step = stepAt(state, data.index, data.step);
      step.status = 'failed';
      step.error = data.error;
      step.retryAt = data.final ? undefined : data.retryAt;
      step.timeoutAt = undefined;
      if (data.final) state.error = data.error;
      break;
    }
    case SignalReceived.type: {
      const data = event.data as EventData<typeof SignalReceived>;
      state.signals.push({ seq: data.seq, name: data.name, payload: data.payload, consumed: false });
      break;
    }
    case WorkflowSlaBreached.type: {
      const data = event.data as EventData<typeof WorkflowSlaBreached>;
      if (data.scope === 'workflow') state.slaBreached = true;
      else {
        const step = state.steps.find((s) => s?.name === data.step);
        if (step !== undefined) step.slaBreached = true;
      }
      break;
    }
    case CompensationStarted.type: {
      const data = event.data as EventData<typeof CompensationStarted>;
      state.status = 'compensating';
      state.compensation = {
        reason: data.reason,
        order: data.steps,
        done: 0,
        failedStep: data.failedStep,
        error: data.error,
        detail: data.detail,
      };
      if (data.error !== undefined) state.error = data.error;
      break;
    }
    case StepCompensated.type: {
      const data = event.data as EventData<typeof StepCompensated>;
      const step = stepAt(state, data.index, data.step);
      step.status = 'compensated';
      step.compensationRetryAt = undefined;
      if (state.compensation !== undefined) state.compensation.done += 1;
      break;
    }
    case CompensationFailed.type: {
      const data = event.data as EventData<typeof CompensationFailed>;
      const step = stepAt(state, data.index, data.step);
      step.compensationAttempt = data.attempt;
      step.compensationRetryAt = data.final ? undefined : data.retryAt;
      step.error = data.error;
      break;
    }
    case WorkflowNeedsOperator.type: {
      const data = event.data as EventData<typeof WorkflowNeedsOperator>;
      state.status = 'needs_operator';
      state.error = data.error;
      break;
    }
    case WorkflowResumed.type: {
      state.status = 'compensating';
      // The operator's retry starts the stuck compensation's attempts over.
      for (const step of state.steps) {
        if (step === undefined) continue;
        step.compensationAttempt = 0;
        step.compensationRetryAt = undefined;
      }
      break;
    }
    case WorkflowCompleted.type:
      end(state, 'completed', event.time);
      break;
    case WorkflowCompensated.type:
      end(state, 'compensated', event.time);
      break;
    case WorkflowFailed.type:
      end(state, 'failed', event.time);
      break;
    case WorkflowTimedOut.type:
      end(state, 'timed_out', event.time);
      break;
    case WorkflowCancelled.type:
      end(state, 'cancelled', event.time);
      break;
    default:
      break;
  }
  return state;
}

function end(state: InstanceState, status: WorkflowStatus, time: number): void {
  state.status = status;
  state.endedAt = time;
}

/** Folds a whole history (its first event must be WorkflowStarted); undefined for an empty one. */
export function foldHistory(events: readonly HistoryEvent[], tenantId: string): InstanceState | undefined {
  const [first, ...rest] = events;
  if (first === undefined || first.type !== WorkflowStarted.type) return undefined;
  let state = initialState(first.data as EventData<typeof WorkflowStarted>, tenantId);
  for (const event of rest) state = evolve(state, event);
  return state;
}

/** True when the status is terminal. */
export function isTerminal(status: WorkflowStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}
