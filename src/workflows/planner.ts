import type { CloudEvent } from '../events/cloud-event.ts';
import type { EventDefinition } from '../events/define-event.ts';
import { newEventId } from '../events/event-id.ts';
import type {
  ResolvedRetryPolicy,
  StepContext,
  WorkflowDefinition,
  WorkflowStep,
} from './define-workflow.ts';
import { type InstanceState, outputsOf, type StepState } from './instance-state.ts';
import {
  CompensationStarted,
  type ErrorInfo,
  SignalReceived,
  StepCompleted,
  StepFailed,
  StepStarted,
  WorkflowCancelled,
  WorkflowCompensated,
  WorkflowCompleted,
  WorkflowFailed,
  WorkflowResumed,
  WorkflowSlaBreached,
  WorkflowTimedOut,
} from './workflow-events.ts';

/** An event the engine is about to append: its definition and data (the envelope comes later). */
export interface NewEvent {
  definition: EventDefinition;
  data: Record<string, unknown>;
}

/** Something sent to an instance from outside: a signal, a command's reply, a cancel or an operator's resume. */
export interface InboxItem {
  /** Row id, increasing in arrival order. */
  id: number;
  kind: 'signal' | 'reply' | 'cancel' | 'resume';
  /** Signal name, reply correlation key, or the cancel's / resume's detail. */
  name: string;
  /** Signal payload, or the reply CloudEvent. */
  payload: unknown;
}

/** What the engine does next for an instance. */
export type Plan =
  /** Append these events (and delete these inbox items in the same transaction), then plan again. */
  | { kind: 'append'; events: NewEvent[]; consumed: InboxItem[] }
  /** Drop inbox items that no longer mean anything (a late reply, a cancel of an instance undoing already). */
  | { kind: 'discard'; items: InboxItem[] }
  /** Run the action of the step at `index` (its StepStarted is stored). */
  | { kind: 'run'; index: number }
  /** Publish the command of the step at `index`. */
  | { kind: 'publish'; index: number }
  /** Run the compensation of the step at `index`. */
  | { kind: 'compensate'; index: number }
  /** Nothing to do before `wakeAt` (ms since the epoch; null: only an inbox item wakes it). */
  | { kind: 'park'; wakeAt: number | null }
  /** The instance has ended. */
  | { kind: 'end' };

/** Most executions of one attempt (re-runs after crashes) before the attempt counts as failed. */
export const MAX_RUNS_PER_ATTEMPT = 5;

/** Milliseconds before the attempt after `attempt` (from 1) failed. */
export function retryDelayMs(policy: ResolvedRetryPolicy, attempt: number): number {
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** Math.max(0, attempt - 1));
}

/** An error as the history keeps it. */
export function errorInfoOf(error: unknown): ErrorInfo {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: error.name,
      message: error.message,
      ...(typeof code === 'string' ? { code } : {}),
    };
  }
  return { name: 'Error', message: String(error) };
}

/** The context an action, a data function or a compensation sees (without its abort signal). */
export function stepContext(
  state: InstanceState,
  step: WorkflowStep,
  attempt: number,
  signal: AbortSignal,
): StepContext {
  return {
    instanceId: state.instanceId,
    workflowId: state.workflowId,
    workflowVersion: state.workflowVersion,
    step: step.name,
    input: state.input,
    outputs: outputsOf(state),
    idempotencyKey: `${state.instanceId}:${step.name}`,
    attempt,
    signal,
    tenantId: state.tenantId,
    correlationId: state.correlationId,
  };
}

const NEVER = new AbortController().signal;

/** StepFailed for an attempt that went wrong, with the retry decision of the step's policy. */
export function stepFailure(
  step: WorkflowStep,
  state: StepState,
  reason: 'error' | 'timeout' | 'reply' | 'interrupted',
  error: ErrorInfo,
  now: number,
  retryable = true,
): NewEvent {
  const final = !retryable || state.attempt >= step.retry.maxAttempts;
  return {
    definition: StepFailed,
    data: {
      instanceId: '',
      step: step.name,
      index: step.index,
      attempt: state.attempt,
      reason,
      error,
      durationMs: Math.max(0, now - (state.startedAt ?? now)),
      final,
      ...(final ? {} : { retryAt: now + retryDelayMs(step.retry, state.attempt) }),
    },
  };
}

/** StepCompleted for an attempt that produced `output` (a signal's sequence number when a signal ended the wait). */
export function stepCompletion(
  step: WorkflowStep,
  state: StepState,
  output: unknown,
  now: number,
  signalSeq?: number,
): NewEvent {
  return {
    definition: StepCompleted,
    data: {
      instanceId: '',
      step: step.name,
      index: step.index,
      attempt: state.attempt,
      output,
      durationMs: Math.max(0, now - (state.startedAt ?? now)),
      ...(signalSeq === undefined ? {} : { signalSeq }),
    },
  };
}

const withInstance = (state: InstanceState, events: NewEvent[]): NewEvent[] => {
  for (const event of events) event.data.instanceId = state.instanceId;
  return events;
};

/** Steps to compensate, in order: the completed ones that have a compensation, last completed first. */
function compensationOrder(definition: WorkflowDefinition, state: InstanceState): number[] {
  const order: number[] = [];
  for (let index = state.current - 1; index >= 0; index--) {
    const step = state.steps[index];
    if (step?.status === 'completed' && definition.steps[index]?.compensate !== undefined) order.push(index);
  }
  return order;
}

const since = (state: InstanceState, now: number) => Math.max(0, now - state.startedAt);

/** Undo phase for a reason, or straight to the end when nothing needs undoing. */
function startCompensation(
  definition: WorkflowDefinition,
  state: InstanceState,
  reason: 'failed' | 'timed_out' | 'cancelled',
  now: number,
  details: { failedStep?: string; error?: ErrorInfo; detail?: string },
): NewEvent[] {
  const order = compensationOrder(definition, state);
  if (order.length === 0) return [terminalEvent(state, reason, now, details)];
  return [
    {
      definition: CompensationStarted,
      data: { instanceId: '', reason, steps: order, ...details },
    },
  ];
}

function terminalEvent(
  state: InstanceState,
  reason: 'failed' | 'timed_out' | 'cancelled',
  now: number,
  details: { failedStep?: string; error?: ErrorInfo; detail?: string },
  compensated = false,
): NewEvent {
  const durationMs = since(state, now);
  switch (reason) {
    case 'timed_out':
      return {
        definition: WorkflowTimedOut,
        data: { instanceId: '', deadline: state.deadline ?? now, durationMs },
      };
    case 'cancelled':
      return {
        definition: WorkflowCancelled,
        data: {
          instanceId: '',
          durationMs,
          ...(details.detail === undefined ? {} : { detail: details.detail }),
        },
      };
    default:
      if (compensated) {
        return {
          definition: WorkflowCompensated,
          data: {
            instanceId: '',
            durationMs,
            ...(details.failedStep === undefined ? {} : { failedStep: details.failedStep }),
            ...(details.error === undefined ? {} : { error: details.error }),
          },
        };
      }
      return {
        definition: WorkflowFailed,
        data: {
          instanceId: '',
          durationMs,
          failedStep: details.failedStep ?? '',
          error: details.error ?? { name: 'Error', message: 'failed' },
        },
      };
  }
}

/** Earliest time (ms since the epoch) something is due for the instance, or null when only the inbox can wake it. */
export function nextWake(definition: WorkflowDefinition, state: InstanceState): number | null {
  const times: number[] = [];
  const add = (time: number | undefined) => {
    if (time !== undefined) times.push(time);
  };
  if (state.status === 'running') {
    add(state.deadline);
    const step = state.steps[state.current];
    const spec = definition.steps[state.current];
    if (step?.status === 'started') {
      add(step.timeoutAt);
      add(step.wakeAt);
    }
    if (step?.status === 'failed') add(step.retryAt);
    if (spec?.slaMs !== undefined && step?.firstStartedAt !== undefined && !step.slaBreached) {
      add(step.firstStartedAt + spec.slaMs);
    }
  }
  if (state.status === 'compensating' && state.compensation !== undefined) {
    const index = state.compensation.order[state.compensation.done];
    if (index !== undefined) add(state.steps[index]?.compensationRetryAt);
  }
  if (state.slaDeadline !== undefined && !state.slaBreached) add(state.slaDeadline);
  return times.length === 0 ? null : Math.min(...times);
}

/** Whether the reply ends the step it answers in failure. */
function isFailureReply(step: WorkflowStep, reply: CloudEvent): boolean {
  return step.command?.failures?.some((d) => d.type === reply.type) ?? false;
}

function planInbox(definition: WorkflowDefinition, state: InstanceState, item: InboxItem, now: number): Plan {
  const consumed = [item];
  const forward = state.status === 'running';
  switch (item.kind) {
    case 'cancel':
      if (forward) {
        return {
          kind: 'append',
          events: withInstance(
            state,
            startCompensation(definition, state, 'cancelled', now, { detail: item.name }),
          ),
          consumed,
        };
      }
      if (state.status === 'needs_operator') {
        // An operator gives up on the stuck compensation: the instance ends as cancelled.
        return {
          kind: 'append',
          events: withInstance(state, [
            terminalEvent(state, 'cancelled', now, {
              detail: item.name || 'cancelled while needing an operator',
            }),
          ]),
          consumed,
        };
      }
      return { kind: 'discard', items: consumed };
    case 'resume':
      if (state.status !== 'needs_operator') return { kind: 'discard', items: consumed };
      return {
        kind: 'append',
        events: withInstance(state, [
          {
            definition: WorkflowResumed,
            data: { instanceId: '', ...(item.name ? { detail: item.name } : {}) },
          },
        ]),
        consumed,
      };
    case 'signal':
      return {
        kind: 'append',
        events: withInstance(state, [
          {
            definition: SignalReceived,
            data: {
              instanceId: '',
              seq: state.signals.length + 1,
              name: item.name,
              payload: item.payload ?? null,
            },
          },
        ]),
        consumed,
      };
    case 'reply': {
      const step = state.steps[state.current];
      const spec = definition.steps[state.current];
      if (
        !forward ||
        step?.status !== 'started' ||
        spec?.kind !== 'command' ||
        step.commandId !== item.name
      ) {
        return { kind: 'discard', items: consumed };
      }
      const reply = item.payload as CloudEvent;
      if (isFailureReply(spec, reply)) {
        const error: ErrorInfo = {
          name: 'FailureReply',
          message: `${reply.type}: ${JSON.stringify(reply.data)}`,
        };
        return {
          kind: 'append',
          events: withInstance(state, [stepFailure(spec, step, 'reply', error, now)]),
          consumed,
        };
      }
      return {
        kind: 'append',
        events: withInstance(state, [stepCompletion(spec, step, reply.data ?? null, now)]),
        consumed,
      };
    }
  }
}

/**
 * Decides the next move of an instance from its state, the time and its unread inbox, without doing it.
 * `live(index)` says whether the current execution of that step was started by the caller (otherwise a
 * started action was interrupted by a crash and must run again).
 */
export function plan(
  definition: WorkflowDefinition,
  state: InstanceState,
  now: number,
  inbox: readonly InboxItem[],
  live: (index: number) => boolean,
): Plan {
  const ended = state.endedAt !== undefined;
  if (ended) return inbox.length > 0 ? { kind: 'discard', items: [...inbox] } : { kind: 'end' };
  const first = inbox[0];
  if (first !== undefined) return planInbox(definition, state, first, now);

  if (state.status === 'running' && state.deadline !== undefined && now >= state.deadline) {
    return {
      kind: 'append',
      events: withInstance(state, startCompensation(definition, state, 'timed_out', now, {})),
      consumed: [],
    };
  }
  if (state.slaDeadline !== undefined && !state.slaBreached && now >= state.slaDeadline) {
    return {
      kind: 'append',
      events: withInstance(state, [breach(state, 'workflow', state.slaDeadline, now)]),
      consumed: [],
    };
  }

  if (state.status === 'needs_operator') return { kind: 'park', wakeAt: nextWake(definition, state) };
  if (state.status === 'compensating') return planCompensation(definition, state, now);
  return planForward(definition, state, now, live);
}

function breach(
  state: InstanceState,
  scope: 'workflow' | 'step',
  deadline: number,
  now: number,
  step?: string,
) {
  return {
    definition: WorkflowSlaBreached,
    data: {
      instanceId: '',
      workflowId: state.workflowId,
      workflowVersion: state.workflowVersion,
      scope,
      deadline,
      detectedAt: now,
      ...(step === undefined ? {} : { step }),
    },
  };
}

function planCompensation(definition: WorkflowDefinition, state: InstanceState, now: number): Plan {
  const compensation = state.compensation!;
  const index = compensation.order[compensation.done];
  if (index === undefined) {
    const details = {
      ...(compensation.failedStep === undefined ? {} : { failedStep: compensation.failedStep }),
      ...(compensation.error === undefined ? {} : { error: compensation.error }),
      ...(compensation.detail === undefined ? {} : { detail: compensation.detail }),
    };
    return {
      kind: 'append',
      events: withInstance(state, [terminalEvent(state, compensation.reason, now, details, true)]),
      consumed: [],
    };
  }
  const step = state.steps[index]!;
  if (step.compensationRetryAt !== undefined && now < step.compensationRetryAt) {
    return { kind: 'park', wakeAt: nextWake(definition, state) };
  }
  return { kind: 'compensate', index };
}

function planForward(
  definition: WorkflowDefinition,
  state: InstanceState,
  now: number,
  live: (index: number) => boolean,
): Plan {
  const spec = definition.steps[state.current];
  if (spec === undefined) {
    return {
      kind: 'append',
      events: withInstance(state, [
        {
          definition: WorkflowCompleted,
          data: { instanceId: '', output: state.output ?? null, durationMs: since(state, now) },
        },
      ]),
      consumed: [],
    };
  }
  const step = state.steps[spec.index];
  if (
    spec.slaMs !== undefined &&
    step?.firstStartedAt !== undefined &&
    !step.slaBreached &&
    now >= step.firstStartedAt + spec.slaMs
  ) {
    return {
      kind: 'append',
      events: withInstance(state, [breach(state, 'step', step.firstStartedAt + spec.slaMs, now, spec.name)]),
      consumed: [],
    };
  }
  if (step === undefined || step.status === 'pending') return startStep(state, spec, 1, 1, now);
  if (step.status === 'failed') {
    if (step.retryAt === undefined) {
      return {
        kind: 'append',
        events: withInstance(
          state,
          startCompensation(definition, state, 'failed', now, {
            failedStep: spec.name,
            ...(step.error === undefined ? {} : { error: step.error }),
          }),
        ),
        consumed: [],
      };
    }
    if (now < step.retryAt) return { kind: 'park', wakeAt: nextWake(definition, state) };
    return startStep(state, spec, step.attempt + 1, 1, now);
  }
  // The step is started.
  switch (spec.kind) {
    case 'action': {
      if (live(spec.index)) return { kind: 'run', index: spec.index };
      if (step.run >= MAX_RUNS_PER_ATTEMPT) {
        const error = {
          name: 'InterruptedError',
          message: `attempt ${step.attempt} was interrupted ${step.run} times (the process running it died)`,
        };
        return {
          kind: 'append',
          events: withInstance(state, [stepFailure(spec, step, 'interrupted', error, now)]),
          consumed: [],
        };
      }
      return startStep(state, spec, step.attempt, step.run + 1, now);
    }
    case 'command':
      if (!step.commandPublished) return { kind: 'publish', index: spec.index };
      return waitOrTimeOut(definition, state, spec, step, now);
    case 'signal': {
      const signal = state.signals.find((s) => !s.consumed && s.name === spec.signal);
      if (signal !== undefined) {
        return {
          kind: 'append',
          events: withInstance(state, [stepCompletion(spec, step, signal.payload ?? null, now, signal.seq)]),
          consumed: [],
        };
      }
      return waitOrTimeOut(definition, state, spec, step, now);
    }
    case 'sleep':
      if (step.wakeAt !== undefined && now < step.wakeAt)
        return { kind: 'park', wakeAt: nextWake(definition, state) };
      return {
        kind: 'append',
        events: withInstance(state, [stepCompletion(spec, step, null, now)]),
        consumed: [],
      };
  }
}

function waitOrTimeOut(
  definition: WorkflowDefinition,
  state: InstanceState,
  spec: WorkflowStep,
  step: StepState,
  now: number,
): Plan {
  if (step.timeoutAt !== undefined && now >= step.timeoutAt) {
    const what =
      spec.kind === 'command' ? `a reply to ${spec.command!.event.type}` : `signal "${spec.signal}"`;
    const error = { name: 'StepTimeoutError', message: `no ${what} within ${spec.timeoutMs} ms` };
    return {
      kind: 'append',
      events: withInstance(state, [stepFailure(spec, step, 'timeout', error, now)]),
      consumed: [],
    };
  }
  return { kind: 'park', wakeAt: nextWake(definition, state) };
}

function startStep(
  state: InstanceState,
  spec: WorkflowStep,
  attempt: number,
  run: number,
  now: number,
): Plan {
  let wakeAt: number | undefined;
  if (spec.kind === 'sleep') {
    const sleepMs =
      typeof spec.sleepMs === 'function'
        ? spec.sleepMs(stepContext(state, spec, attempt, NEVER))
        : spec.sleepMs;
    wakeAt = now + Math.max(0, Number(sleepMs) || 0);
  }
  return {
    kind: 'append',
    events: withInstance(state, [
      {
        definition: StepStarted,
        data: {
          instanceId: '',
          step: spec.name,
          index: spec.index,
          attempt,
          run,
          startedAt: now,
          ...(spec.timeoutMs === undefined ? {} : { timeoutAt: now + spec.timeoutMs }),
          ...(spec.kind === 'command' ? { commandId: newEventId() } : {}),
          ...(wakeAt === undefined ? {} : { wakeAt }),
        },
      },
    ]),
    consumed: [],
  };
}
