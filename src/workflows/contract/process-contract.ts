import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorkflowEngine } from '../engine.ts';
import { openDatabase } from '../test-support/databases.ts';
import { openEffects } from '../test-support/effects.ts';
import { engineProcesses, freshPlace } from '../test-support/engine-processes.ts';
import { crashSaga, waitingWorkflow } from '../test-support/test-workflows.ts';
import { until } from './workflow-contract.ts';

// Proofs with real engine processes (SIGKILL, restarts), shared by the store adapters: each adapter's
// spec file runs them on its database.

const processes = engineProcesses();
const disposals: Array<() => Promise<void>> = [];

function cleanUpAfterEach(): void {
  afterEach(async () => {
    processes.killAll();
    for (const dispose of disposals.splice(0).reverse()) await dispose();
  });
}

/** SIGKILL proofs: every instance completes or compensates, each effect once per idempotency key. */
export function describeCrashRecovery(kind: 'sqlite' | 'postgres'): void {
  describe(`workflow engine crash recovery (${kind})`, () => {
    cleanUpAfterEach();
    it('SIGKILLed inside a step, between steps and at random, every instance completes or compensates with each effect once per key', async () => {
      const place = await freshPlace(kind, 'wfcrash');
      disposals.push(place.dispose);
      const db = await openDatabase(place.database);
      disposals.push(db.close);
      const effects = await openEffects(place.effects);
      disposals.push(effects.close);
      const saga = crashSaga(effects, { insideStep: async () => {} });
      const client = createWorkflowEngine({
        store: db.store,
        backend: db.backend,
        workflows: [saga],
        logger: pino({ level: 'silent' }),
      });
      const count = 40;
      const started = await Promise.all(
        Array.from({ length: count }, (_, i) =>
          client.start(saga, { fail: i % 4 === 3 }, { instanceId: `adm-${i}` }),
        ),
      );
      const base = { workflow: 'crash-saga' as const, leaseTtlMs: 600, concurrency: 8 };

      // 1. Killed inside a step: the 12th action has applied its effect and not yet returned.
      const first = processes.spawn(place, {
        ...base,
        workerId: 'crash-1',
        marker: { at: 'inside-step', n: 12 },
      });
      const inside = await first.waitForLine((line) => line.startsWith('inside '), 20_000);
      await processes.kill(first);
      const interruptedKey = inside.text.slice('inside '.length);

      // 2. Killed between steps: a step's completion (and the next step's start) is stored, its action not run.
      const second = processes.spawn(place, {
        ...base,
        workerId: 'crash-2',
        marker: { at: 'between-steps', n: 15 },
      });
      await second.waitForLine((line) => line.startsWith('between '), 20_000);
      await processes.kill(second);

      // 3. Killed at arbitrary moments while instances are in flight.
      for (let round = 3; round <= 4; round++) {
        const child = processes.spawn(place, { ...base, workerId: `crash-${round}` });
        await child.waitForLine((line) => line === 'ready', 20_000);
        await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 250));
        await processes.kill(child);
      }

      // 4. A last process runs everything to the end.
      const last = processes.spawn(place, { ...base, workerId: 'crash-last' });
      await last.waitForLine((line) => line === 'ready', 20_000);
      await until(
        'every instance has ended',
        async () =>
          (await client.list({ status: ['completed', 'compensated'], limit: 1_000 })).length === count,
        30_000,
      );
      await processes.kill(last);

      const byInstance = new Map<string, string[]>();
      for (const effect of await effects.applied()) {
        byInstance.set(effect.instance_id, [
          ...(byInstance.get(effect.instance_id) ?? []),
          `${effect.kind}:${effect.step}`,
        ]);
      }
      const attempts = await effects.attempts();
      for (const [i, { instanceId }] of started.entries()) {
        const view = await client.get(instanceId);
        const fails = i % 4 === 3;
        expect(view.status).toBe(fails ? 'compensated' : 'completed');
        // One effect per idempotency key: a re-run after a crash reused the key, so it changed nothing.
        const expected = fails
          ? ['do:admit', 'do:reserve', 'undo:admit', 'undo:reserve']
          : ['do:admit', 'do:assign', 'do:reserve'];
        expect((byInstance.get(instanceId) ?? []).sort()).toEqual(expected);
        // The history records each step's completion exactly once, in a gap-free stream.
        const completed = view.history.filter((e) => e.type === 'keel.workflow.step.completed');
        expect(completed.map((e) => (e.data as { step: string }).step)).toEqual(
          fails ? ['reserve', 'admit'] : ['reserve', 'admit', 'assign'],
        );
        expect(view.history.map((e) => e.version)).toEqual(view.history.map((_, n) => n + 1));
      }
      // The kills did interrupt work: the action killed mid-way ran again (same key), and others too.
      expect(attempts.get(interruptedKey)).toBeGreaterThanOrEqual(2);
      const rerun = [...attempts.values()].filter((n) => n > 1).length;
      expect(rerun).toBeGreaterThanOrEqual(1);
    }, 90_000);
  });
}

/** Durable timers: a time-out that passed while no engine ran fires once, right after a restart. */
export function describeDurableTimers(kind: 'sqlite' | 'postgres'): void {
  describe(`durable timers across restarts (${kind})`, () => {
    cleanUpAfterEach();
    it('fires a 2 s time-out once after the engine was down for 5 s', async () => {
      const place = await freshPlace(kind, 'wftimer');
      disposals.push(place.dispose);
      const db = await openDatabase(place.database);
      disposals.push(db.close);
      const client = createWorkflowEngine({
        store: db.store,
        backend: db.backend,
        workflows: [waitingWorkflow],
        logger: pino({ level: 'silent' }),
      });
      const config = { workflow: 'timer-wait' as const, leaseTtlMs: 1_000 };
      const first = processes.spawn(place, { ...config, workerId: 'timer-1' });
      await first.waitForLine((line) => line === 'ready', 20_000);
      const { instanceId } = await client.start(waitingWorkflow, null);
      const parked = await first.waitForLine((line) => line === `parked ${instanceId}`, 10_000);
      const waitingSince = Date.now();
      await processes.kill(first);
      // The premise: the engine died well before the time-out was due.
      expect(Date.now() - parked.at).toBeLessThan(1_500);

      await new Promise((resolve) => setTimeout(resolve, 5_000));
      // Down for 5 s: the 2 s time-out passed while no engine ran, and nothing fired it.
      const meanwhile = await client.get(instanceId);
      expect(meanwhile.status).toBe('waiting');
      expect(meanwhile.history.some((e) => e.type === 'keel.workflow.step.failed')).toBe(false);

      const restartedAt = Date.now();
      const second = processes.spawn(place, { ...config, workerId: 'timer-2' });
      const ready = await second.waitForLine((line) => line === 'ready', 20_000);
      const view = await client.waitForEnd(instanceId, { timeoutMs: 10_000 });
      const timeouts = view.history.filter(
        (e) => e.type === 'keel.workflow.step.failed' && (e.data as { reason: string }).reason === 'timeout',
      );
      expect(timeouts).toHaveLength(1);
      expect(view.status).toBe('failed');
      expect(view.error?.name).toBe('StepTimeoutError');
      // Fired by the restarted engine, soon after it came up (not a further 2 s later).
      expect(timeouts[0]!.recordedAt).toBeGreaterThanOrEqual(restartedAt);
      expect(timeouts[0]!.recordedAt - waitingSince).toBeGreaterThanOrEqual(5_000);
      // Due already, it fires at the first claim: not a further 2 s after the restart.
      expect(timeouts[0]!.recordedAt - ready.at).toBeLessThan(2_000);
      expect((timeouts[0]!.data as { durationMs: number }).durationMs).toBeGreaterThanOrEqual(5_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const after = await client.get(instanceId);
      expect(after.history).toHaveLength(view.history.length);
      await processes.kill(second);
    }, 40_000);
  });
}
