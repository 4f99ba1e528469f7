import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createEvent } from '../../events/create-event.ts';
import type { EventStore } from '../../store/event-store.ts';
import type { SlaState, WorkflowBackend } from '../backend.ts';
import { command, defineWorkflow, trigger } from '../define-workflow.ts';
import { createWorkflowEngine, workflowStreamId } from '../engine.ts';
import type { WorkflowEngine, WorkflowEngineOptions } from '../engine-types.ts';
import {
  LeaseLostError,
  NonRetryableError,
  UnknownWorkflowError,
  WorkflowInputError,
  WorkflowInstanceEndedError,
  WorkflowInstanceIdTakenError,
  WorkflowInstanceNotFoundError,
  WorkflowVersionConflictError,
} from '../errors.ts';
import { createWorkflowMetrics, type WorkflowMetrics } from '../metrics.ts';
import { slaStateOf } from '../sla-condition.ts';
import { StepCompleted } from '../workflow-events.ts';
import {
  BedRefused,
  BedReserved,
  type ContractBus,
  openContractBus,
  PatientArrived,
  ReserveBed,
} from './contract-bus.ts';

/** A store and backend on one database, as an engine process opens them. */
export interface WorkflowDatabase {
  store: EventStore;
  backend: WorkflowBackend;
}

/** What an adapter's test gives the contract; `setup` makes a fresh, empty database for every test. */
export interface WorkflowHarness extends WorkflowDatabase {
  /** Opens another store and backend on the same database, on their own connections (as another process would). */
  connect(): Promise<WorkflowDatabase>;
  /** Closes everything the harness opened and removes what it created. */
  cleanup(): Promise<void>;
}

/** Resolves once `condition` holds, checking every `intervalMs` (default 10); fails after `timeoutMs` (default 10 000). */
export async function until(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  intervalMs = 10,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sum of a counter's (or a histogram's `_count`) values whose labels include these; 0 when never incremented. */
async function metricValue(
  metric: { get(): Promise<{ values: { value: number; labels: object; metricName?: string }[] }> },
  labels: object,
  suffix = '',
) {
  const { values } = await metric.get();
  return values
    .filter(
      (v) =>
        (suffix === '' || v.metricName?.endsWith(suffix)) &&
        Object.entries(labels).every(([key, value]) => (v.labels as Record<string, unknown>)[key] === value),
    )
    .reduce((sum, v) => sum + v.value, 0);
}

const typesOf = (history: readonly { type: string }[]) =>
  history.map((h) => h.type.replace('keel.workflow.', ''));

/**
 * The workflow engine's contract, written against the ports only (EventStore, WorkflowBackend): every
 * store adapter runs it. Timers are short (tens to hundreds of ms) so the suite takes seconds.
 */
export function describeWorkflowContract(name: string, setup: () => Promise<WorkflowHarness>): void {
  describe(`workflow engine contract: ${name}`, () => {
    let h: WorkflowHarness;
    let metrics: WorkflowMetrics;
    const engines: WorkflowEngine[] = [];
    const buses: ContractBus[] = [];

    beforeEach(async () => {
      h = await setup();
      metrics = createWorkflowMetrics(new Registry());
    });
    afterEach(async () => {
      await Promise.allSettled(engines.splice(0).map((e) => e.close(2_000)));
      await Promise.allSettled(buses.splice(0).map((b) => b.close()));
      await h.cleanup();
    });

    const engineOn = async (
      db: WorkflowDatabase,
      options: Partial<WorkflowEngineOptions> = {},
      worker = true,
    ): Promise<WorkflowEngine> => {
      const engine = createWorkflowEngine({
        store: db.store,
        backend: db.backend,
        metrics,
        logger: pino({ level: 'silent' }),
        pollIntervalMs: 20,
        leaseTtlMs: 2_000,
        ...options,
      });
      engines.push(engine);
      if (worker) await engine.startWorker();
      return engine;
    };
    const engineFor = (options: Partial<WorkflowEngineOptions> = {}, worker = true) =>
      engineOn(h, options, worker);
    const bus = async () => {
      const opened = await openContractBus();
      buses.push(opened);
      return opened;
    };

    describe('execution', () => {
      it('runs the steps in order, passes outputs on, and keeps the history as a stream of events', async () => {
        const keys: string[] = [];
        const flow = defineWorkflow({
          id: 'intake',
          version: 1,
          input: z.object({ n: z.number() }),
          steps: [
            { name: 'add', action: (ctx) => ({ n: ctx.input.n + 1 }) },
            {
              name: 'double',
              action: (ctx) => {
                keys.push(`${ctx.idempotencyKey}#${ctx.attempt}`);
                return (ctx.outputs.add as { n: number }).n * 2;
              },
            },
            { name: 'report', action: (ctx) => `${ctx.input.n} -> ${ctx.outputs.double}` },
          ],
        });
        const engine = await engineFor({ workflows: [flow] });
        const { instanceId, streamId, created } = await engine.start(flow, { n: 4 });
        expect(created).toBe(true);
        expect(streamId).toBe(workflowStreamId('intake', instanceId));
        const view = await engine.waitForEnd(instanceId);
        expect(view.status).toBe('completed');
        expect(view.outputs).toEqual({ add: { n: 5 }, double: 10, report: '4 -> 10' });
        expect(view.output).toBe('4 -> 10');
        expect(keys).toEqual([`${instanceId}:double#1`]);
        expect(typesOf(view.history)).toEqual([
          'started',
          'step.started',
          'step.completed',
          'step.started',
          'step.completed',
          'step.started',
          'step.completed',
          'completed',
        ]);
        // The history is an ordinary stream of the event store.
        const page = await h.store.readStream(streamId);
        expect(page.events.map((e) => e.event.type)).toEqual(view.history.map((e) => e.type));
        expect(
          page.events.every((e) => e.event.subject === instanceId && e.event.correlationid === instanceId),
        ).toBe(true);
        expect(await metricValue(metrics.completed, { workflow: 'intake' })).toBe(1);
        expect(
          await metricValue(metrics.stepDuration, { workflow: 'intake', outcome: 'completed' }, '_count'),
        ).toBe(3);
        const [row] = await engine.list({ definition: flow });
        expect(row).toMatchObject({
          instanceId,
          status: 'completed',
          step: null,
          leaseOwner: null,
          wakeAt: null,
        });
      });

      it('retries a failing step with backoff, recording each attempt', async () => {
        const attempts: number[] = [];
        const flow = defineWorkflow({
          id: 'flaky',
          version: 1,
          steps: [
            {
              name: 'call',
              retry: { maxAttempts: 3, initialDelayMs: 40 },
              action: (ctx) => {
                attempts.push(ctx.attempt);
                if (ctx.attempt < 3) throw new Error(`attempt ${ctx.attempt} failed`);
                return 'ok';
              },
            },
          ],
        });
        const engine = await engineFor({ workflows: [flow] });
        const { instanceId } = await engine.start(flow, null);
        const view = await engine.waitForEnd(instanceId);
        expect(view.status).toBe('completed');
        expect(attempts).toEqual([1, 2, 3]);
        expect(view.steps[0]).toMatchObject({ name: 'call', status: 'completed', attempt: 3 });
        const failures = view.history.filter((e) => e.type === 'keel.workflow.step.failed');
        expect(failures.map((e) => e.data)).toMatchObject([
          { attempt: 1, final: false, reason: 'error', error: { message: 'attempt 1 failed' } },
          { attempt: 2, final: false, reason: 'error' },
        ]);
        const first = failures[0]!.data as { retryAt: number };
        const second = failures[1]!.data as { retryAt: number };
        const restarts = view.history.filter((e) => e.type === 'keel.workflow.step.started');
        // Backoff doubles: 40 ms, then 80 ms, and no attempt starts before it is due.
        expect(second.retryAt - first.retryAt).toBeGreaterThanOrEqual(80);
        expect(restarts[1]!.recordedAt).toBeGreaterThanOrEqual(first.retryAt - 5);
        expect(restarts[2]!.recordedAt).toBeGreaterThanOrEqual(second.retryAt - 5);
      });

      it('fails at once on a NonRetryableError, and with nothing to undo ends as failed', async () => {
        let calls = 0;
        const flow = defineWorkflow({
          id: 'refused',
          version: 1,
          steps: [
            {
              name: 'validate',
              compensate: () => {
                throw new Error('never: the step did not complete');
              },
              action: () => {
                calls++;
                throw new NonRetryableError('patient record is locked', 'RECORD_LOCKED');
              },
            },
          ],
        });
        const engine = await engineFor({ workflows: [flow] });
        const { instanceId } = await engine.start(flow, {});
        const view = await engine.waitForEnd(instanceId);
        expect(calls).toBe(1);
        expect(view.status).toBe('failed');
        expect(view.error).toEqual({
          name: 'NonRetryableError',
          message: 'patient record is locked',
          code: 'RECORD_LOCKED',
        });
        expect(typesOf(view.history)).toEqual(['started', 'step.started', 'step.failed', 'failed']);
        expect(await metricValue(metrics.failed, { workflow: 'refused' })).toBe(1);
      });

      it('times an action out: its signal aborts and the attempt fails as timed out', async () => {
        let aborted: unknown;
        const flow = defineWorkflow({
          id: 'slow',
          version: 1,
          steps: [
            {
              name: 'hang',
              timeoutMs: 100,
              retry: { maxAttempts: 1 },
              action: (ctx) =>
                new Promise((_, reject) => {
                  ctx.signal.addEventListener('abort', () => {
                    aborted = ctx.signal.reason;
                    reject(ctx.signal.reason);
                  });
                }),
            },
          ],
        });
        const engine = await engineFor({ workflows: [flow] });
        const started = Date.now();
        const { instanceId } = await engine.start(flow, {});
        const view = await engine.waitForEnd(instanceId);
        expect(Date.now() - started).toBeGreaterThanOrEqual(100);
        expect(view.status).toBe('failed');
        expect((aborted as Error).name).toBe('StepTimeoutError');
        expect(view.history.find((e) => e.type === 'keel.workflow.step.failed')?.data).toMatchObject({
          reason: 'timeout',
          final: true,
        });
      });
    });

    describe('saga compensation', () => {
      it('compensates the completed steps in reverse order when a later step fails', async () => {
        const undone: string[] = [];
        const flow = defineWorkflow({
          id: 'saga',
          version: 1,
          steps: [
            {
              name: 'hold-bed',
              action: () => ({ bed: 'B-12' }),
              compensate: (ctx) => {
                undone.push(`${ctx.step}:${JSON.stringify(ctx.output)}:${ctx.reason}:${ctx.idempotencyKey}`);
              },
            },
            { name: 'log', action: () => 'logged' },
            {
              name: 'admit',
              action: () => ({ admission: 'A-1' }),
              compensate: (ctx) => {
                undone.push(`${ctx.step}:${JSON.stringify(ctx.output)}:${ctx.reason}:${ctx.idempotencyKey}`);
              },
            },
            {
              name: 'assign',
              retry: { maxAttempts: 2, initialDelayMs: 10 },
              action: () => {
                throw new Error('bed taken');
              },
              compensate: () => {
                undone.push('assign: must not run, it never completed');
              },
            },
          ],
        });
        const engine = await engineFor({ workflows: [flow] });
        const { instanceId } = await engine.start(flow, {});
        const view = await engine.waitForEnd(instanceId);
        expect(view.status).toBe('compensated');
        expect(undone).toEqual([
          `admit:{"admission":"A-1"}:failed:${instanceId}:admit:compensate`,
          `hold-bed:{"bed":"B-12"}:failed:${instanceId}:hold-bed:compensate`,
        ]);
        expect(view.compensation).toEqual({ reason: 'failed', steps: ['admit', 'hold-bed'] });
        expect(view.error?.message).toBe('bed taken');
        expect(view.steps.map((s) => s.status)).toEqual([
          'compensated',
          'completed',
          'compensated',
          'failed',
        ]);
        expect(typesOf(view.history).slice(-4)).toEqual([
          'compensation.started',
          'step.compensated',
          'step.compensated',
          'compensated',
        ]);
        expect(await metricValue(metrics.compensated, { workflow: 'saga', outcome: 'compensated' })).toBe(1);
      });

      it('retries a failing compensation, then needs an operator (visible in the API) until resumed', async () => {
        let broken = true;
        let compensations = 0;
        const flow = defineWorkflow({
          id: 'stuck',
          version: 1,
          compensationRetry: { maxAttempts: 2, initialDelayMs: 20 },
          steps: [
            {
              name: 'charge',
              action: () => 'charged',
              compensate: () => {
                compensations++;
                if (broken) throw new Error('billing system down');
              },
            },
            {
              name: 'ship',
              retry: { maxAttempts: 1 },
              action: () => {
                throw new Error('no stock');
              },
            },
          ],
        });
        const engine = await engineFor({ workflows: [flow] });
        const { instanceId } = await engine.start(flow, {});
        await until('the instance needs an operator', async () =>
          (await engine.list({ status: 'needs_operator' })).some((r) => r.instanceId === instanceId),
        );
        const stuck = await engine.get(instanceId);
        expect(stuck.status).toBe('needs_operator');
        expect(stuck.currentStep).toBe('charge');
        expect(stuck.error?.message).toBe('billing system down');
        expect(compensations).toBe(2);
        expect(await metricValue(metrics.needsOperator, { workflow: 'stuck' })).toBe(1);
        // The gauge of unended instances is read from the database at scrape time.
        expect(await metricValue(metrics.instances, { workflow: 'stuck', status: 'needs_operator' })).toBe(1);
        await sleep(100);
        expect(compensations).toBe(2);

        broken = false;
        await engine.resume(instanceId, { detail: 'billing is back' });
        const view = await engine.waitForEnd(instanceId);
        expect(view.status).toBe('compensated');
        expect(compensations).toBe(3);
        expect(typesOf(view.history).slice(-8)).toEqual([
          'step.failed',
          'compensation.started',
          'compensation.failed',
          'compensation.failed',
          'needs-operator',
          'resumed',
          'step.compensated',
          'compensated',
        ]);
      });
    });

    describe('timers', () => {
      it('sleeps durably: the instance parks with its timer and goes on once it is due', async () => {
        const flow = defineWorkflow({
          id: 'nap',
          version: 1,
          steps: [
            { name: 'wait', sleepMs: 300 },
            { name: 'after', action: () => Date.now() },
          ],
        });
        const engine = await engineFor({ workflows: [flow] });
        const before = Date.now();
        const { instanceId } = await engine.start(flow, {});
        await until('the instance parks', async () => (await engine.get(instanceId)).status === 'waiting');
        const [row] = await engine.list({ status: 'waiting' });
        expect(row?.leaseOwner).toBeNull();
        expect(row?.wakeAt).toBeGreaterThanOrEqual(before + 300);
        const view = await engine.waitForEnd(instanceId);
        expect(view.status).toBe('completed');
        expect(view.output as number).toBeGreaterThanOrEqual(before + 300);
      });

      it('times the whole instance out: completed steps are compensated and it ends as timed out', async () => {
        const undone: string[] = [];
        const flow = defineWorkflow({
          id: 'deadline',
          version: 1,
          timeoutMs: 300,
          steps: [
            { name: 'reserve', action: () => 'r', compensate: (ctx) => void undone.push(ctx.reason) },
            { name: 'await-consent', waitForSignal: 'consent' },
          ],
        });
        const engine = await engineFor({ workflows: [flow] });
        const { instanceId } = await engine.start(flow, {});
        const view = await engine.waitForEnd(instanceId);
        expect(view.status).toBe('timed_out');
        expect(undone).toEqual(['timed_out']);
        expect(view.endedAt! - view.startedAt).toBeGreaterThanOrEqual(300);
        expect(await metricValue(metrics.compensated, { workflow: 'deadline', outcome: 'timed_out' })).toBe(
          1,
        );
      });

      it('reports an SLA breach once (history, metric, bus alert) and lists instances at risk', async () => {
        const opened = await bus();
        const flow = defineWorkflow({
          id: 'triage',
          version: 1,
          slaMs: 600,
          steps: [
            { name: 'assess', waitForSignal: 'assessed', slaMs: 150 },
            { name: 'done', action: () => 'ok' },
          ],
        });
        const engine = await engineFor({
          workflows: [flow],
          bus: { transport: opened.transport, catalog: opened.catalog },
        });
        const { instanceId } = await engine.start(flow, {});
        expect((await engine.list({ slaRisk: { withinMs: 2_000 } })).map((r) => r.instanceId)).toEqual([
          instanceId,
        ]);
        expect(await engine.list({ slaRisk: { withinMs: 10 } })).toEqual([]);
        await until('both deadlines are reported', async () => (await engine.get(instanceId)).slaBreached);
        const breached = await engine.get(instanceId);
        const breaches = breached.history.filter((e) => e.type === 'keel.workflow.sla.breached');
        expect(breaches.map((e) => e.data)).toMatchObject([
          { scope: 'step', step: 'assess' },
          { scope: 'workflow', deadline: breached.slaDeadline },
        ]);
        expect(await metricValue(metrics.slaBreaches, { workflow: 'triage', scope: 'workflow' })).toBe(1);
        expect(await metricValue(metrics.slaBreaches, { workflow: 'triage', scope: 'step' })).toBe(1);
        expect((await engine.list({ slaRisk: true })).map((r) => r.instanceId)).toEqual([instanceId]);
        await until('the alerts reach the bus', () => opened.alerts.length === 2);
        expect(opened.alerts.map((a) => (a.data as { instanceId: string }).instanceId)).toEqual([
          instanceId,
          instanceId,
        ]);

        await engine.signal(instanceId, 'assessed', { triage: 'yellow' });
        const view = await engine.waitForEnd(instanceId);
        expect(view.status).toBe('completed');
        expect(view.history.filter((e) => e.type === 'keel.workflow.sla.breached')).toHaveLength(2);
        expect(await engine.list({ slaRisk: true })).toEqual([]);
      });
    });

    describe('listing', () => {
      it('lists instances by SLA state and in pages after a cursor, in creation order', async () => {
        const wait = { name: 'wait', waitForSignal: 'go' } as const;
        const late = defineWorkflow({ id: 'late', version: 1, slaMs: 1, steps: [wait] });
        const close = defineWorkflow({ id: 'close', version: 1, slaMs: 60_000, steps: [wait] });
        const far = defineWorkflow({ id: 'far', version: 1, slaMs: 3_600_000, steps: [wait] });
        const none = defineWorkflow({ id: 'none', version: 1, steps: [wait] });
        // A client only: the instances stay as started, so their SLA state depends on the clock alone.
        const engine = await engineFor(
          { workflows: [late, close, far, none], slaRiskWindowMs: 120_000 },
          false,
        );
        const ids: string[] = [];
        for (const flow of [late, close, far, none]) ids.push((await engine.start(flow, {})).instanceId);
        await new Promise((resolve) => setTimeout(resolve, 20));
        const listed = async (slaState: SlaState) =>
          (await engine.list({ slaState })).map((r) => r.workflowId);
        expect(await listed('breached')).toEqual(['late']);
        expect(await listed('at-risk')).toEqual(['close']);
        expect(await listed('on-time')).toEqual(['far']);
        expect(await listed('none')).toEqual(['none']);
        const now = Date.now();
        expect((await engine.list()).map((r) => slaStateOf(r, now, 120_000))).toEqual([
          'breached',
          'at-risk',
          'on-time',
          'none',
        ]);

        const first = await engine.list({ limit: 3 });
        const last = first.at(-1)!;
        const rest = await engine.list({
          limit: 3,
          after: { createdAt: last.createdAt, instanceId: last.instanceId },
        });
        expect([...first, ...rest].map((r) => r.instanceId)).toEqual(ids);
      });
    });

    describe('signals and cancel', () => {
      it('waits for a signal, keeps one that arrives early, and fails a wait that times out', async () => {
        const flow = defineWorkflow({
          id: 'consent',
          version: 1,
          steps: [
            {
              name: 'prepare',
              action: () => new Promise((resolve) => setTimeout(() => resolve('ready'), 150)),
            },
            { name: 'consent', waitForSignal: 'consented', timeoutMs: 400, retry: { maxAttempts: 1 } },
            { name: 'proceed', action: (ctx) => ctx.outputs.consent },
          ],
        });
        const engine = await engineFor({ workflows: [flow] });
        const early = await engine.start(flow, {});
        await engine.signal(early.instanceId, 'consented', { by: 'patient' });
        const late = await engine.start(flow, {});
        await until(
          'the instance waits',
          async () => (await engine.get(late.instanceId)).currentStep === 'consent',
        );
        await until('it parks', async () => (await engine.get(late.instanceId)).status === 'waiting');
        await engine.signal(late.instanceId, 'consented', { by: 'guardian' });
        const none = await engine.start(flow, {});

        expect((await engine.waitForEnd(early.instanceId)).output).toEqual({ by: 'patient' });
        expect((await engine.waitForEnd(late.instanceId)).output).toEqual({ by: 'guardian' });
        const timedOut = await engine.waitForEnd(none.instanceId);
        expect(timedOut.status).toBe('failed');
        expect(timedOut.error?.name).toBe('StepTimeoutError');
        await expect(engine.signal(early.instanceId, 'consented', {})).rejects.toBeInstanceOf(
          WorkflowInstanceEndedError,
        );
        await expect(engine.signal('no-such-instance', 'x')).rejects.toBeInstanceOf(
          WorkflowInstanceNotFoundError,
        );
      });

      it('cancels a waiting instance and a running action: compensations run, it ends cancelled', async () => {
        const undone: string[] = [];
        let actionSignal: AbortSignal | undefined;
        const waiting = defineWorkflow({
          id: 'cancel-waiting',
          version: 1,
          steps: [
            {
              name: 'book',
              action: () => 'booked',
              compensate: (ctx) => void undone.push(`book:${ctx.reason}`),
            },
            { name: 'wait', waitForSignal: 'go' },
          ],
        });
        const running = defineWorkflow({
          id: 'cancel-running',
          version: 1,
          steps: [
            { name: 'book', action: () => 'booked', compensate: () => void undone.push('book (running)') },
            {
              name: 'work',
              compensate: () => void undone.push('work: must not run'),
              action: (ctx) =>
                new Promise((_, reject) => {
                  actionSignal = ctx.signal;
                  ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
                }),
            },
          ],
        });
        const engine = await engineFor({ workflows: [waiting, running] });
        const a = await engine.start(waiting, {});
        await until(
          'it waits for its signal',
          async () => (await engine.get(a.instanceId)).status === 'waiting',
        );
        await engine.cancel(a.instanceId, { reason: 'patient left' });
        const cancelled = await engine.waitForEnd(a.instanceId);
        expect(cancelled.status).toBe('cancelled');
        expect(cancelled.history.at(-1)?.data).toMatchObject({ detail: 'patient left' });
        expect(cancelled.compensation).toEqual({ reason: 'cancelled', steps: ['book'] });

        const b = await engine.start(running, {});
        await until('the action runs', () => actionSignal !== undefined);
        await engine.cancel(b.instanceId);
        const stopped = await engine.waitForEnd(b.instanceId);
        expect(stopped.status).toBe('cancelled');
        expect(actionSignal?.aborted).toBe(true);
        expect(undone).toEqual(['book:cancelled', 'book (running)']);
        expect(
          await metricValue(metrics.compensated, { workflow: 'cancel-running', outcome: 'cancelled' }),
        ).toBe(1);
        await expect(engine.cancel(b.instanceId)).rejects.toBeInstanceOf(WorkflowInstanceEndedError);
      });
    });

    describe('commands and triggers on the bus', () => {
      it('publishes a command and completes the step with its correlated reply', async () => {
        const opened = await bus();
        const flow = defineWorkflow({
          id: 'reserve',
          version: 1,
          input: z.object({ patientId: z.string(), mode: z.enum(['ok', 'refuse', 'silent']) }),
          steps: [
            {
              name: 'reserve-bed',
              timeoutMs: 5_000,
              retry: { maxAttempts: 1 },
              command: command(
                ReserveBed,
                (ctx: { input: { patientId: string; mode: 'ok' | 'refuse' | 'silent' } }) => ctx.input,
                {
                  replies: [BedReserved],
                  failures: [BedRefused],
                },
              ),
            },
            {
              name: 'confirm',
              action: (ctx) => `confirmed ${(ctx.outputs['reserve-bed'] as { bed: string }).bed}`,
            },
          ],
        });
        const engine = await engineFor({
          workflows: [flow],
          bus: { transport: opened.transport, catalog: opened.catalog },
        });
        const { instanceId } = await engine.start(
          flow,
          { patientId: 'p-1', mode: 'ok' },
          { correlationId: 'visit-7' },
        );
        const view = await engine.waitForEnd(instanceId);
        expect(view.status).toBe('completed');
        expect(view.outputs['reserve-bed']).toEqual({ patientId: 'p-1', bed: 'bed-p-1' });
        expect(view.output).toBe('confirmed bed-p-1');
        const [sent] = opened.commands;
        const started = view.history.find((e) => e.type === 'keel.workflow.step.started')!.data as {
          commandId: string;
        };
        expect(sent).toMatchObject({
          id: started.commandId,
          correlationid: 'visit-7',
          causationid: instanceId,
        });
        expect(typesOf(view.history)).toContain('command.published');
      });

      it('fails the step on a failure reply, and times a missing reply out', async () => {
        const opened = await bus();
        const undone: string[] = [];
        const flow = defineWorkflow({
          id: 'reserve-or-undo',
          version: 1,
          input: z.object({ patientId: z.string(), mode: z.enum(['ok', 'refuse', 'silent']) }),
          steps: [
            { name: 'register', action: () => 'r', compensate: (ctx) => void undone.push(ctx.instanceId) },
            {
              name: 'reserve-bed',
              timeoutMs: 400,
              retry: { maxAttempts: 1 },
              command: {
                event: ReserveBed,
                data: (ctx) => ctx.input,
                replies: [BedReserved],
                failures: [BedRefused],
              },
            },
          ],
        });
        const engine = await engineFor({
          workflows: [flow],
          bus: { transport: opened.transport, catalog: opened.catalog },
        });
        const refused = await engine.start(flow, { patientId: 'p-2', mode: 'refuse' });
        const silent = await engine.start(flow, { patientId: 'p-3', mode: 'silent' });
        const a = await engine.waitForEnd(refused.instanceId);
        const b = await engine.waitForEnd(silent.instanceId);
        expect(a.status).toBe('compensated');
        expect(a.history.find((e) => e.type === 'keel.workflow.step.failed')?.data).toMatchObject({
          reason: 'reply',
        });
        expect(a.error?.message).toContain('ward full');
        expect(b.status).toBe('compensated');
        expect(b.history.find((e) => e.type === 'keel.workflow.step.failed')?.data).toMatchObject({
          reason: 'timeout',
        });
        expect(undone.sort()).toEqual([refused.instanceId, silent.instanceId].sort());
      });

      it('starts an instance when a trigger event arrives, once per correlation key', async () => {
        const opened = await bus();
        const flow = defineWorkflow({
          id: 'admission-on-arrival',
          version: 1,
          input: z.object({ patientId: z.string(), ward: z.string() }),
          triggers: [
            trigger(PatientArrived, {
              key: (event) => `arrival-${event.data!.patientId}`,
              input: (event) => event.data!,
              when: (event) => event.data!.ward !== 'ignored',
            }),
          ],
          steps: [{ name: 'greet', action: (ctx) => `welcome to ${ctx.input.ward}` }],
        });
        const engine = await engineFor({
          workflows: [flow],
          bus: { transport: opened.transport, catalog: opened.catalog },
        });
        const first = await opened.publisher.publish(
          PatientArrived,
          { patientId: 'p-9', ward: 'cardio' },
          { correlationId: 'visit-9' },
        );
        await opened.publisher.publish(PatientArrived, { patientId: 'p-9', ward: 'cardio' });
        await opened.publisher.publish(PatientArrived, { patientId: 'p-10', ward: 'neuro' });
        await opened.publisher.publish(PatientArrived, { patientId: 'p-11', ward: 'ignored' });
        await until(
          'two instances ended',
          async () => (await engine.list({ status: 'completed' })).length === 2,
        );
        await sleep(150);
        const rows = await engine.list({ definition: 'admission-on-arrival' });
        expect(rows.map((r) => r.instanceId).sort()).toEqual(['arrival-p-10', 'arrival-p-9']);
        const view = await engine.get('arrival-p-9');
        expect(view.output).toBe('welcome to cardio');
        expect(view.history[0]!.data).toMatchObject({ correlationId: 'visit-9', causationId: first.id });
      });
    });

    describe('versions, ids and tenants', () => {
      it('keeps an instance on the version it started with; an engine without that version leaves it alone', async () => {
        const v1 = defineWorkflow({
          id: 'discharge',
          version: 1,
          steps: [
            { name: 'review', action: () => 'v1 review' },
            { name: 'sign', waitForSignal: 'signed' },
            { name: 'close', action: () => 'closed by v1' },
          ],
        });
        const v2 = defineWorkflow({
          id: 'discharge',
          version: 2,
          steps: [
            { name: 'review', action: () => 'v2 review' },
            { name: 'close-fast', action: () => 'closed by v2' },
          ],
        });
        const old = await engineFor({ workflows: [v1] });
        const { instanceId, workflowVersion } = await old.start(v1, {});
        expect(workflowVersion).toBe(1);
        await until('the v1 instance waits', async () => (await old.get(instanceId)).status === 'waiting');
        await old.close();

        // A deploy that ships only v2: it must not pick the v1 instance up (it cannot run it).
        const onlyNew = await engineFor({ workflows: [v2] });
        const fresh = await onlyNew.start('discharge', {});
        expect(fresh.workflowVersion).toBe(2);
        expect((await onlyNew.waitForEnd(fresh.instanceId)).output).toBe('closed by v2');
        await onlyNew.signal(instanceId, 'signed', { by: 'dr. who' });
        await sleep(250);
        expect((await onlyNew.get(instanceId)).status).toBe('waiting');
        await onlyNew.close();

        // An engine holding both versions carries it on, on v1's steps.
        const both = await engineFor({ workflows: [v1, v2] });
        const view = await both.waitForEnd(instanceId);
        expect(view).toMatchObject({ status: 'completed', workflowVersion: 1, output: 'closed by v1' });
        expect(view.steps.map((s) => s.name)).toEqual(['review', 'sign', 'close']);
        expect((await both.start('discharge', {})).workflowVersion).toBe(2);
        expect(() =>
          both.register(
            defineWorkflow({ id: 'discharge', version: 2, steps: [{ name: 'x', action: () => 1 }] }),
          ),
        ).toThrow(WorkflowVersionConflictError);
      });

      it('dedupes starts by instance id, validates input, and refuses unknown workflows and taken ids', async () => {
        const flow = defineWorkflow({
          id: 'dedupe',
          version: 1,
          input: z.object({ patientId: z.string().min(1) }),
          steps: [{ name: 'a', action: (ctx) => ctx.input.patientId }],
        });
        const other = defineWorkflow({ id: 'other', version: 1, steps: [{ name: 'a', action: () => 1 }] });
        const engine = await engineFor({ workflows: [flow, other] });
        const first = await engine.start(flow, { patientId: 'p-1' }, { instanceId: 'visit-1' });
        const again = await engine.start(flow, { patientId: 'p-2' }, { instanceId: 'visit-1' });
        expect(first.created).toBe(true);
        expect(again).toMatchObject({ created: false, instanceId: 'visit-1', workflowVersion: 1 });
        expect((await engine.waitForEnd('visit-1')).output).toBe('p-1');
        expect((await h.store.readStream(first.streamId)).events[0]!.event.data).toMatchObject({
          input: { patientId: 'p-1' },
        });
        await expect(engine.start(flow, { patientId: '' })).rejects.toBeInstanceOf(WorkflowInputError);
        await expect(engine.start('nope', {})).rejects.toBeInstanceOf(UnknownWorkflowError);
        await expect(engine.start(other, {}, { instanceId: 'visit-1' })).rejects.toBeInstanceOf(
          WorkflowInstanceIdTakenError,
        );
        await expect(engine.get('visit-404')).rejects.toBeInstanceOf(WorkflowInstanceNotFoundError);
      });

      it("keeps each tenant's instances in its own streams and lists them by tenant", async () => {
        const flow = defineWorkflow({
          id: 'tenanted',
          version: 1,
          steps: [{ name: 'a', action: (ctx) => ctx.tenantId }],
        });
        const engine = await engineFor({ workflows: [flow] });
        const a = await engine.start(flow, {}, { tenantId: 'clinic-a' });
        const b = await engine.start(flow, {}, { tenantId: 'clinic-b' });
        expect((await engine.waitForEnd(a.instanceId)).output).toBe('clinic-a');
        expect((await engine.waitForEnd(b.instanceId)).tenantId).toBe('clinic-b');
        expect((await engine.list({ tenantId: 'clinic-a' })).map((r) => r.instanceId)).toEqual([
          a.instanceId,
        ]);
        const stream = await h.store.forTenant('clinic-a').readStream(a.streamId);
        expect(stream.events.every((e) => e.tenantId === 'clinic-a' && e.event.tenantid === 'clinic-a')).toBe(
          true,
        );
        expect((await h.store.forTenant('clinic-b').readStream(a.streamId)).events).toEqual([]);
      });
    });

    describe('leases', () => {
      it('fences off a process that lost its lease: its transition is refused and nothing is written', async () => {
        const flow = defineWorkflow({ id: 'fenced', version: 1, steps: [{ name: 'a', sleepMs: 60_000 }] });
        const client = await engineFor({ workflows: [flow] }, false);
        const { instanceId, streamId } = await client.start(flow, {});
        const keys = ['fenced@1'];
        const now = Date.now();
        const [mine] = await h.backend.claim('process-a', keys, now, now + 50, 10);
        expect(mine).toMatchObject({ instanceId, lease: { owner: 'process-a', epoch: 1 } });
        expect(await h.backend.claim('process-b', keys, Date.now(), Date.now() + 5_000, 10)).toEqual([]);
        await sleep(60);
        // process-a's lease ran out: process-b takes the instance over with a new epoch.
        const [theirs] = await h.backend.claim('process-b', keys, Date.now(), Date.now() + 5_000, 10);
        expect(theirs?.lease).toEqual({ owner: 'process-b', epoch: 2 });
        expect((await h.backend.renew('process-a', [instanceId], Date.now() + 5_000)).held.size).toBe(0);

        const write = (lease: { owner: string; epoch: number }) => ({
          instanceId,
          lease,
          status: 'running' as const,
          step: 'a',
          streamVersion: 2,
          slaBreached: false,
          endedAt: null,
          now: Date.now(),
          inboxSeen: 0,
          clearCancel: false,
          release: undefined,
          consumed: [],
          waitKey: undefined,
        });
        const event = () =>
          createEvent(
            StepCompleted,
            { instanceId, step: 'a', index: 0, attempt: 1, output: null, durationMs: 1 },
            {
              source: 'urn:test',
            },
          );
        const out = { inboxVersion: 0 };
        await expect(
          h.store.append(streamId, [event()], {
            expectedVersion: 1,
            withinTransaction: h.backend.writeHook(write({ owner: 'process-a', epoch: 1 }), out),
          }),
        ).rejects.toBeInstanceOf(LeaseLostError);
        expect((await h.store.readStream(streamId)).streamVersion).toBe(1);
        expect(await h.backend.release(write({ owner: 'process-a', epoch: 1 }))).toBe(false);
        await h.store.append(streamId, [event()], {
          expectedVersion: 1,
          withinTransaction: h.backend.writeHook(write({ owner: 'process-b', epoch: 2 }), out),
        });
        expect((await h.store.readStream(streamId)).streamVersion).toBe(2);
      });

      it('carries on the instances a closed engine handed back, from another connection', async () => {
        const flow = defineWorkflow({
          id: 'handover',
          version: 1,
          steps: [
            { name: 'first', action: () => 'first' },
            { name: 'pause', sleepMs: 300 },
            { name: 'last', action: () => 'done' },
          ],
        });
        const a = await engineFor({ workflows: [flow], workerId: 'engine-a' });
        const started = await Promise.all(Array.from({ length: 5 }, () => a.start(flow, {})));
        await until('all parked', async () => (await a.list({ status: 'waiting' })).length === 5);
        await a.close();
        const other = await h.connect();
        const b = await engineOn(other, { workflows: [flow], workerId: 'engine-b' });
        for (const { instanceId } of started) {
          const view = await b.waitForEnd(instanceId);
          expect(view.status).toBe('completed');
        }
      });
    });
  });
}
