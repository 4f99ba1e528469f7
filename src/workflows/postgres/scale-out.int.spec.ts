import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../store/event-store.ts';
import { usePostgresTestLock } from '../../test-support/postgres-lock.ts';
import { until } from '../contract/workflow-contract.ts';
import { createWorkflowEngine } from '../engine.ts';
import { openDatabase } from '../test-support/databases.ts';
import { type ExecutionRow, openEffects, preciseNow } from '../test-support/effects.ts';
import { engineProcesses, freshPlace } from '../test-support/engine-processes.ts';
import { scaleWorkflow } from '../test-support/test-workflows.ts';

// PostgreSQL test files take turns on the shared server (see the store's test lock).
usePostgresTestLock();

const processes = engineProcesses();
const disposals: Array<() => Promise<void>> = [];
afterEach(async () => {
  processes.killAll();
  for (const dispose of disposals.splice(0).reverse()) await dispose();
});

async function setUp(label: string) {
  const place = await freshPlace('postgres', label);
  disposals.push(place.dispose);
  const db = await openDatabase(place.database);
  disposals.push(db.close);
  const effects = await openEffects(place.effects);
  disposals.push(effects.close);
  const workflow = scaleWorkflow(effects, 'parent', { insideStep: async () => {} });
  const client = createWorkflowEngine({
    store: db.store,
    backend: db.backend,
    workflows: [workflow],
    logger: pino({ level: 'silent' }),
  });
  return { place, db, effects, workflow, client };
}

/** Every event of the workflow's streams, grouped by stream. */
async function histories(db: Awaited<ReturnType<typeof openDatabase>>): Promise<Map<string, StoredEvent[]>> {
  const streams = new Map<string, StoredEvent[]>();
  let after: string | undefined;
  for (;;) {
    const page = await db.store.readAll({ streamPrefix: 'workflow-scale-', maxCount: 2_000, after });
    for (const event of page.events)
      streams.set(event.streamId, [...(streams.get(event.streamId) ?? []), event]);
    after = page.next;
    if (!page.hasMore) return streams;
  }
}

/** Pairs of executions of one instance whose intervals overlap (an open one lasts until `openUntil`). */
function overlaps(rows: readonly ExecutionRow[], openUntil: number): string[] {
  const byInstance = new Map<string, ExecutionRow[]>();
  for (const row of rows) byInstance.set(row.instance_id, [...(byInstance.get(row.instance_id) ?? []), row]);
  const found: string[] = [];
  for (const [instance, runs] of byInstance) {
    const sorted = [...runs].sort((a, b) => a.started_at - b.started_at);
    let reach = Number.NEGATIVE_INFINITY;
    let holder = '';
    for (const run of sorted) {
      if (run.started_at < reach)
        found.push(`${instance}: ${run.process}/${run.step} began inside ${holder}`);
      const end = run.ended_at ?? openUntil;
      if (end > reach) {
        reach = end;
        holder = `${run.process}/${run.step}`;
      }
    }
  }
  return found;
}

describe('workflow scale-out on PostgreSQL (engine processes sharing one database)', () => {
  it('two engine processes run 1,000 instances, one is SIGKILLed and replaced: all finish, none runs in two processes at once', async () => {
    const { place, db, effects, workflow, client } = await setUp('wfscale');
    const total = 1_000;
    for (let from = 0; from < total; from += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, i) => client.start(workflow, null, { instanceId: `s-${from + i}` })),
      );
    }
    const config = { workflow: 'scale' as const, leaseTtlMs: 1_500, concurrency: 24 };
    const a = processes.spawn(place, { ...config, workerId: 'engine-a' });
    const b = processes.spawn(place, { ...config, workerId: 'engine-b' });
    await Promise.all([a, b].map((child) => child.waitForLine((line) => line === 'ready', 20_000)));
    await until(
      'a third of the work is done',
      async () => (await effects.executions()).length >= total,
      60_000,
    );
    await processes.kill(a);
    const killedAt = preciseNow();
    const c = processes.spawn(place, { ...config, workerId: 'engine-c' });
    await c.waitForLine((line) => line === 'ready', 20_000);
    await until(
      'every instance completed',
      async () => (await db.backend.countActive()).reduce((sum, row) => sum + row.count, 0) === 0,
      90_000,
    );
    await processes.kill(b);
    await processes.kill(c);

    const completed = await client.list({ status: 'completed', limit: 2_000 });
    expect(completed).toHaveLength(total);
    const executions = await effects.executions();
    const byProcess = new Map<string, number>();
    for (const row of executions) byProcess.set(row.process, (byProcess.get(row.process) ?? 0) + 1);
    for (const name of ['engine-a', 'engine-b', 'engine-c'])
      expect(byProcess.get(name) ?? 0).toBeGreaterThan(0);
    // No instance ever had two executions at once (an execution cut short by the kill lasts until the kill).
    expect(overlaps(executions, killedAt)).toEqual([]);
    // Instances engine-a held when it died were taken over by another process.
    const processesOf = new Map<string, Set<string>>();
    for (const row of executions) {
      processesOf.set(row.instance_id, (processesOf.get(row.instance_id) ?? new Set()).add(row.process));
    }
    expect([...processesOf.values()].filter((set) => set.size > 1).length).toBeGreaterThan(0);
    // Every history is whole: each step completed once, versions without gaps.
    const streams = await histories(db);
    expect(streams.size).toBe(total);
    for (const events of streams.values()) {
      expect(events.map((e) => e.version)).toEqual(events.map((_, n) => n + 1));
      const steps = events
        .filter((e) => e.event.type === 'keel.workflow.step.completed')
        .map((e) => (e.event.data as { step: string }).step);
      expect(steps).toEqual(['one', 'two', 'three']);
      expect(events.at(-1)!.event.type).toBe('keel.workflow.completed');
    }
  }, 120_000);

  it('a process paused past its lease is fenced off when it wakes: another process finished the instance, it writes nothing', async () => {
    const { place, db, effects, workflow, client } = await setUp('wffence');
    const config = { workflow: 'scale' as const, leaseTtlMs: 1_000 };
    const a = processes.spawn(place, {
      ...config,
      workerId: 'engine-a',
      marker: { at: 'inside-step', n: 1, holdMs: 300 },
    });
    await a.waitForLine((line) => line === 'ready', 20_000);
    const { instanceId, streamId } = await client.start(workflow, null);
    await a.waitForLine((line) => line.startsWith('inside '), 10_000);
    // Frozen inside its first action (a long GC pause, a stopped VM): its lease runs out.
    a.process.kill('SIGSTOP');
    const b = processes.spawn(place, { ...config, workerId: 'engine-b' });
    await b.waitForLine((line) => line === 'ready', 20_000);
    const view = await client.waitForEnd(instanceId, { timeoutMs: 15_000 });
    expect(view.status).toBe('completed');
    const finished = (await db.store.readStream(streamId)).streamVersion;

    a.process.kill('SIGCONT');
    // Woken, engine-a finishes its action and tries to store its completion: the lease epoch refuses it.
    await until(
      'engine-a ended its stale execution',
      async () => (await effects.executions()).some((r) => r.process === 'engine-a' && r.ended_at !== null),
      10_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await db.store.readStream(streamId)).streamVersion).toBe(finished);
    const history = (await client.get(instanceId)).history;
    expect(
      history
        .filter((e) => e.type === 'keel.workflow.step.completed')
        .map((e) => (e.data as { step: string }).step),
    ).toEqual(['one', 'two', 'three']);
    // engine-a ran nothing after its stale step; engine-b ran the instance from that step on.
    const executions = await effects.executions();
    expect(executions.filter((r) => r.process === 'engine-a').map((r) => r.step)).toEqual(['one']);
    expect(executions.filter((r) => r.process === 'engine-b').map((r) => r.step)).toEqual([
      'one',
      'two',
      'three',
    ]);
    await processes.kill(a);
    await processes.kill(b);
  }, 60_000);
});
