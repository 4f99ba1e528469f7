import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineEvent } from '../events/define-event.ts';
import { defineWorkflow, type WorkflowDefinition } from './define-workflow.ts';
import { evolve, type HistoryEvent, type InstanceState, initialState } from './instance-state.ts';
import { type InboxItem, MAX_RUNS_PER_ATTEMPT, nextWake, type Plan, plan, retryDelayMs } from './planner.ts';

const Reply = defineEvent({ type: 'test.reply', version: 1, schema: z.object({ ok: z.boolean() }) });
const Refusal = defineEvent({ type: 'test.refusal', version: 1, schema: z.object({}) });
const Command = defineEvent({ type: 'test.command', version: 1, schema: z.object({}) });

const T0 = 1_000_000;

const saga = defineWorkflow({
  id: 'saga',
  version: 1,
  slaMs: 5_000,
  steps: [
    { name: 'hold', action: () => 1, compensate: () => {} },
    { name: 'note', action: () => 2 },
    { name: 'admit', action: () => 3, compensate: () => {}, timeoutMs: 1_000, retry: { maxAttempts: 2 } },
    {
      name: 'assign',
      command: { event: Command, data: () => ({}), replies: [Reply], failures: [Refusal] },
      timeoutMs: 2_000,
    },
    { name: 'approve', waitForSignal: 'approved' },
    { name: 'rest', sleepMs: 500 },
  ],
});

/** Given a history (type suffix and data), the state it folds to. */
function given(
  definition: WorkflowDefinition,
  events: Array<[string, Record<string, unknown>]>,
): InstanceState {
  let state = initialState(
    {
      instanceId: 'i-1',
      workflowId: definition.id,
      workflowVersion: definition.version,
      input: {},
      correlationId: 'c-1',
      startedAt: T0,
      ...(definition.slaMs === undefined ? {} : { slaDeadline: T0 + definition.slaMs }),
    },
    'default',
  );
  for (const [type, data] of events) {
    const event: HistoryEvent = {
      type: `keel.workflow.${type}`,
      data: { instanceId: 'i-1', ...data },
      time: T0,
    };
    state = evolve(state, event);
  }
  return state;
}

const started = (index: number, step: string, extra: Record<string, unknown> = {}) =>
  ['step.started', { index, step, attempt: 1, run: 1, startedAt: T0, ...extra }] as [
    string,
    Record<string, unknown>,
  ];
const completed = (index: number, step: string, output: unknown = index) =>
  ['step.completed', { index, step, attempt: 1, output, durationMs: 1 }] as [string, Record<string, unknown>];
const throughNote = [started(0, 'hold'), completed(0, 'hold'), started(1, 'note'), completed(1, 'note')];

/** When planning at `now` with this inbox, and the given steps' current runs live. */
function when(state: InstanceState, now = T0, inbox: InboxItem[] = [], live: number[] = []): Plan {
  return plan(saga, state, now, inbox, (index) => live.includes(index));
}

const eventsOf = (next: Plan) =>
  next.kind === 'append' ? next.events.map((e) => ({ type: e.definition.type, ...e.data })) : next;

describe('planner', () => {
  it('starts the next pending step, recording its time-out', () => {
    const next = when(
      given(saga, [started(0, 'hold'), completed(0, 'hold'), started(1, 'note'), completed(1, 'note')]),
    );
    expect(eventsOf(next)).toEqual([
      expect.objectContaining({
        type: 'keel.workflow.step.started',
        step: 'admit',
        attempt: 1,
        run: 1,
        timeoutAt: T0 + 1_000,
      }),
    ]);
  });

  it('runs an action whose execution it started itself, and re-runs one a crash interrupted', () => {
    const state = given(saga, [started(0, 'hold')]);
    expect(when(state, T0, [], [0])).toEqual({ kind: 'run', index: 0 });
    expect(eventsOf(when(state))).toEqual([
      expect.objectContaining({ type: 'keel.workflow.step.started', step: 'hold', attempt: 1, run: 2 }),
    ]);
  });

  it(`counts an attempt interrupted ${MAX_RUNS_PER_ATTEMPT} times as failed`, () => {
    const state = given(saga, [started(0, 'hold', { run: MAX_RUNS_PER_ATTEMPT })]);
    expect(eventsOf(when(state))).toEqual([
      expect.objectContaining({
        type: 'keel.workflow.step.failed',
        reason: 'interrupted',
        attempt: 1,
        final: false,
      }),
    ]);
  });

  it('after a final failure compensates only completed steps that have a compensation, last first', () => {
    const state = given(saga, [
      ...throughNote,
      started(2, 'admit'),
      completed(2, 'admit'),
      started(3, 'assign', { commandId: 'cmd-1' }),
      [
        'step.failed',
        {
          index: 3,
          step: 'assign',
          attempt: 3,
          reason: 'reply',
          error: { name: 'E', message: 'no' },
          durationMs: 1,
          final: true,
        },
      ],
    ]);
    expect(eventsOf(when(state))).toEqual([
      expect.objectContaining({
        type: 'keel.workflow.compensation.started',
        reason: 'failed',
        steps: [2, 0],
        failedStep: 'assign',
      }),
    ]);
  });

  it('ends as failed when a final failure leaves nothing to undo', () => {
    const state = given(saga, [
      started(0, 'hold'),
      [
        'step.failed',
        {
          index: 0,
          step: 'hold',
          attempt: 3,
          reason: 'error',
          error: { name: 'E', message: 'x' },
          durationMs: 1,
          final: true,
        },
      ],
    ]);
    expect(eventsOf(when(state))).toEqual([
      expect.objectContaining({
        type: 'keel.workflow.failed',
        failedStep: 'hold',
        error: { name: 'E', message: 'x' },
      }),
    ]);
  });

  it('waits for a retry until it is due, then starts the next attempt', () => {
    const state = given(saga, [
      ...throughNote,
      started(2, 'admit'),
      [
        'step.failed',
        {
          index: 2,
          step: 'admit',
          attempt: 1,
          reason: 'timeout',
          error: { name: 'E', message: 't' },
          durationMs: 1,
          final: false,
          retryAt: T0 + 200,
        },
      ],
    ]);
    expect(when(state, T0 + 100)).toEqual({ kind: 'park', wakeAt: T0 + 200 });
    expect(eventsOf(when(state, T0 + 200))).toEqual([
      expect.objectContaining({ type: 'keel.workflow.step.started', step: 'admit', attempt: 2, run: 1 }),
    ]);
  });

  it('publishes a started command once, then completes the step with the reply to that command only', () => {
    const base = [
      ...throughNote,
      started(2, 'admit'),
      completed(2, 'admit'),
      started(3, 'assign', { commandId: 'cmd-1', timeoutAt: T0 + 2_000 }),
    ];
    expect(when(given(saga, base))).toEqual({ kind: 'publish', index: 3 });
    const waiting = given(saga, [
      ...base,
      [
        'command.published',
        { index: 3, step: 'assign', attempt: 1, commandId: 'cmd-1', commandType: 'test.command' },
      ],
    ]);
    expect(when(waiting)).toEqual({ kind: 'park', wakeAt: T0 + 2_000 });
    const stale: InboxItem = {
      id: 1,
      kind: 'reply',
      name: 'cmd-0',
      payload: { type: 'test.reply', data: { ok: true } },
    };
    expect(when(waiting, T0, [stale])).toEqual({ kind: 'discard', items: [stale] });
    const reply: InboxItem = {
      id: 2,
      kind: 'reply',
      name: 'cmd-1',
      payload: { type: 'test.reply', data: { ok: true } },
    };
    expect(eventsOf(when(waiting, T0, [reply]))).toEqual([
      expect.objectContaining({ type: 'keel.workflow.step.completed', step: 'assign', output: { ok: true } }),
    ]);
    const refusal: InboxItem = {
      id: 3,
      kind: 'reply',
      name: 'cmd-1',
      payload: { type: 'test.refusal', data: {} },
    };
    expect(eventsOf(when(waiting, T0, [refusal]))).toEqual([
      expect.objectContaining({
        type: 'keel.workflow.step.failed',
        reason: 'reply',
        attempt: 1,
        final: false,
      }),
    ]);
    expect(eventsOf(when(waiting, T0 + 2_000))).toEqual([
      expect.objectContaining({ type: 'keel.workflow.step.failed', reason: 'timeout' }),
    ]);
  });

  it('reports an SLA breach once its deadline passes, and only once', () => {
    const state = given(saga, [started(0, 'hold')]);
    expect(when(state, T0 + 4_999, [], [0])).toEqual({ kind: 'run', index: 0 });
    const breach = eventsOf(when(state, T0 + 5_000, [], [0]));
    expect(breach).toEqual([
      expect.objectContaining({
        type: 'keel.workflow.sla.breached',
        scope: 'workflow',
        deadline: T0 + 5_000,
      }),
    ]);
    const after = given(saga, [
      started(0, 'hold'),
      ['sla.breached', { scope: 'workflow', deadline: T0 + 5_000 }],
    ]);
    expect(when(after, T0 + 6_000, [], [0])).toEqual({ kind: 'run', index: 0 });
  });

  it('turns a cancel into compensation, ignores it while compensating, and ends an instance stuck on an operator', () => {
    const cancel: InboxItem = { id: 9, kind: 'cancel', name: 'patient left', payload: null };
    const running = given(saga, [started(0, 'hold'), completed(0, 'hold'), started(1, 'note')]);
    expect(eventsOf(when(running, T0, [cancel]))).toEqual([
      expect.objectContaining({
        type: 'keel.workflow.compensation.started',
        reason: 'cancelled',
        steps: [0],
        detail: 'patient left',
      }),
    ]);
    const compensating = given(saga, [
      started(0, 'hold'),
      completed(0, 'hold'),
      ['compensation.started', { reason: 'failed', steps: [0] }],
    ]);
    expect(when(compensating, T0, [cancel])).toEqual({ kind: 'discard', items: [cancel] });
    expect(when(compensating)).toEqual({ kind: 'compensate', index: 0 });
    const stuck = given(saga, [
      started(0, 'hold'),
      completed(0, 'hold'),
      ['compensation.started', { reason: 'failed', steps: [0] }],
      ['needs-operator', { step: 'hold', error: { name: 'E', message: 'down' } }],
    ]);
    expect(when(stuck)).toEqual({ kind: 'park', wakeAt: T0 + 5_000 });
    expect(eventsOf(when(stuck, T0, [cancel]))).toEqual([
      expect.objectContaining({ type: 'keel.workflow.cancelled' }),
    ]);
  });

  it('buffers a signal, consumes it in the step that waits for it, and sleeps until a timer', () => {
    const base = [
      ...throughNote,
      started(2, 'admit'),
      completed(2, 'admit'),
      started(3, 'assign', { commandId: 'cmd-1' }),
      completed(3, 'assign'),
    ];
    const signal: InboxItem = { id: 4, kind: 'signal', name: 'approved', payload: { by: 'dr' } };
    expect(eventsOf(when(given(saga, base), T0, [signal]))).toEqual([
      expect.objectContaining({
        type: 'keel.workflow.signal.received',
        seq: 1,
        name: 'approved',
        payload: { by: 'dr' },
      }),
    ]);
    const waiting = given(saga, [
      ...base,
      ['signal.received', { seq: 1, name: 'approved', payload: { by: 'dr' } }],
      started(4, 'approve'),
    ]);
    expect(eventsOf(when(waiting))).toEqual([
      expect.objectContaining({
        type: 'keel.workflow.step.completed',
        step: 'approve',
        output: { by: 'dr' },
        signalSeq: 1,
      }),
    ]);
    const sleeping = given(saga, [
      ...base,
      started(4, 'approve'),
      completed(4, 'approve'),
      started(5, 'rest', { wakeAt: T0 + 500 }),
    ]);
    expect(when(sleeping, T0 + 100)).toEqual({ kind: 'park', wakeAt: T0 + 500 });
    expect(eventsOf(when(sleeping, T0 + 500))).toEqual([
      expect.objectContaining({ type: 'keel.workflow.step.completed', step: 'rest' }),
    ]);
  });

  it('wakes at the earliest of its timers, and doubles retry delays up to the cap', () => {
    const state = given(saga, [...throughNote, started(2, 'admit', { timeoutAt: T0 + 1_000 })]);
    expect(nextWake(saga, state)).toBe(T0 + 1_000);
    expect(nextWake(saga, given(saga, [started(0, 'hold')]))).toBe(T0 + 5_000);
    const policy = { maxAttempts: 9, initialDelayMs: 100, factor: 2, maxDelayMs: 500 };
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(policy, attempt))).toEqual([100, 200, 400, 500]);
  });
});

describe('defineWorkflow', () => {
  it('returns frozen plain data with resolved retry policies', () => {
    expect(Object.isFrozen(saga)).toBe(true);
    expect(saga.steps.map((s) => s.kind)).toEqual([
      'action',
      'action',
      'action',
      'command',
      'signal',
      'sleep',
    ]);
    expect(saga.steps[2]!.retry).toEqual({
      maxAttempts: 2,
      initialDelayMs: 200,
      factor: 2,
      maxDelayMs: 30_000,
    });
    expect(saga.compensationRetry.maxAttempts).toBe(5);
  });

  it('refuses bad ids, versions, duplicate names and steps of no or several kinds', () => {
    const step = { name: 'a', action: () => 1 };
    expect(() => defineWorkflow({ id: 'bad id', version: 1, steps: [step] })).toThrow(/id "bad id"/);
    expect(() => defineWorkflow({ id: 'w', version: 0, steps: [step] })).toThrow(
      /version must be an integer/,
    );
    expect(() => defineWorkflow({ id: 'w', version: 1, steps: [] })).toThrow(/at least one step/);
    expect(() => defineWorkflow({ id: 'w', version: 1, steps: [step, step] })).toThrow(/used twice/);
    expect(() => defineWorkflow({ id: 'w', version: 1, steps: [{ name: 'a' } as never] })).toThrow(
      /found none/,
    );
    expect(() =>
      defineWorkflow({ id: 'w', version: 1, steps: [{ name: 'a', action: () => 1, sleepMs: 5 } as never] }),
    ).toThrow(/found action, sleep/);
    expect(() => defineWorkflow({ id: 'w', version: 1, steps: [{ ...step, timeoutMs: -1 }] })).toThrow(
      /timeoutMs/,
    );
    expect(() =>
      defineWorkflow({ id: 'w', version: 1, steps: [{ ...step, retry: { maxAttempts: 0 } }] }),
    ).toThrow(/maxAttempts/);
  });
});
