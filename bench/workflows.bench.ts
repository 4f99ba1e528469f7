import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import postgres from 'postgres';
import { createPostgresEventStore } from '../src/store/postgres/index.ts';
import { createSqliteEventStore } from '../src/store/sqlite/index.ts';
import { defineWorkflow } from '../src/workflows/define-workflow.ts';
import { createWorkflowEngine } from '../src/workflows/engine.ts';
import type { WorkflowEngine } from '../src/workflows/engine-types.ts';
import { createPostgresWorkflowBackend } from '../src/workflows/postgres/index.ts';
import { createSqliteWorkflowBackend } from '../src/workflows/sqlite/index.ts';
import { type BenchResult, percentile } from './stats.ts';

const silent = pino({ level: 'silent' });
const POSTGRES_URL = process.env.KEEL_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The benchmarked workflow: three code steps, each passing a small output on. */
const threeSteps = defineWorkflow({
  id: 'bench-three-steps',
  version: 1,
  steps: [
    { name: 'check', action: (ctx) => ({ patient: ctx.instanceId, ok: true }) },
    {
      name: 'admit',
      action: (ctx) => ({ admission: `a-${(ctx.outputs.check as { patient: string }).patient}` }),
    },
    { name: 'notify', action: () => 'notified' },
  ],
});

interface Rig {
  engine: WorkflowEngine;
  /** Resolves with ms (performance.now) at which each instance completed. */
  completions: Map<string, number>;
  onComplete: ((instanceId: string) => void) | undefined;
  done(): Promise<void>;
}

/** A started worker on a fresh database: a SQLite file (`synchronous` as given) or a PostgreSQL schema. */
async function rig(kind: 'sqlite' | 'postgres'): Promise<Rig> {
  const completions = new Map<string, number>();
  const state: Rig = { engine: undefined as never, completions, onComplete: undefined, done: async () => {} };
  let dispose: () => Promise<void>;
  let store: ReturnType<typeof createSqliteEventStore>;
  let backend: ReturnType<typeof createSqliteWorkflowBackend>;
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'keel-bench-wf-'));
    const path = join(dir, 'keel.db');
    store = createSqliteEventStore({ path });
    backend = createSqliteWorkflowBackend({ path });
    dispose = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const schema = `keel_bench_wf_${process.pid}`;
    store = createPostgresEventStore({ url: POSTGRES_URL, schema, maxConnections: 16 });
    await store.readAll({ maxCount: 0 });
    backend = createPostgresWorkflowBackend({ url: POSTGRES_URL, schema });
    dispose = async () => {
      const admin = postgres(POSTGRES_URL, { max: 1, onnotice: () => {} });
      await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    };
  }
  const engine = createWorkflowEngine({
    store,
    backend,
    workflows: [threeSteps],
    logger: silent,
    concurrency: 64,
    onTransition: (transition) => {
      if (transition.status !== 'completed') return;
      completions.set(transition.instanceId, performance.now());
      state.onComplete?.(transition.instanceId);
    },
  });
  await engine.startWorker();
  state.engine = engine;
  state.done = async () => {
    await engine.close();
    await backend.close();
    await store.close();
    await dispose();
  };
  return state;
}

const waitFor = (rigged: Rig, count: number, timeoutMs: number) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`only ${rigged.completions.size}/${count} completed`)),
      timeoutMs,
    );
    const check = () => {
      if (rigged.completions.size >= count) {
        clearTimeout(timer);
        resolve();
      }
    };
    rigged.onComplete = check;
    check();
  });

/**
 * Three-step workflows completed per second (a burst started at once, 64 run at a time), and the
 * start → completion latency at a steady rate well below that (p50, p99).
 */
export async function workflowBenchmarks(kind: 'sqlite' | 'postgres'): Promise<BenchResult[]> {
  const label = kind === 'sqlite' ? 'SQLite, synchronous=full' : 'PostgreSQL 15';
  const burst = await rig(kind);
  const total = 3_000;
  await burst.engine.start(threeSteps, null, { instanceId: 'warm-up' });
  await waitFor(burst, 1, 10_000);
  const started = performance.now();
  const starts: Promise<unknown>[] = [];
  for (let i = 0; i < total; i++)
    starts.push(burst.engine.start(threeSteps, null, { instanceId: `burst-${i}` }));
  await Promise.all(starts);
  await waitFor(burst, total + 1, 120_000);
  const perSecond = total / ((performance.now() - started) / 1000);
  await burst.done();

  const steady = await rig(kind);
  const rate = Math.max(20, Math.round(perSecond / 4));
  const seconds = 5;
  const startedAt = new Map<string, number>();
  const tick = performance.now();
  let sent = 0;
  const pending: Promise<unknown>[] = [];
  while (sent < rate * seconds) {
    const due = Math.min(rate * seconds, Math.floor(((performance.now() - tick) / 1000) * rate));
    while (sent < due) {
      const instanceId = `steady-${sent++}`;
      startedAt.set(instanceId, performance.now());
      pending.push(steady.engine.start(threeSteps, null, { instanceId }));
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await Promise.all(pending);
  await waitFor(steady, sent, 60_000);
  // The first second warms caches and connections and is not counted.
  const latencies = [...startedAt]
    .filter(([id]) => Number(id.slice('steady-'.length)) >= rate)
    .map(([id, at]) => steady.completions.get(id)! - at);
  await steady.done();
  const round = (ms: number) => Math.round(ms * 100) / 100;
  const note = `${rate} starts/s for ${seconds} s (the first second not counted), 64 instances at a time, engine and starter in one process`;
  return [
    {
      name: `three-step workflows completed (${label})`,
      value: Math.round(perSecond),
      unit: 'workflows/s',
      better: 'higher',
      note: `${total} instances started at once, 64 run at a time; each is 5 appends (start, step 1 started, 2 × completed + next started, completed + end) with its row write in the same transaction`,
    },
    { name: `start → completion p50 (${label})`, value: round(percentile(latencies, 50)), unit: 'ms', note },
    {
      name: `start → completion p99 (${label})`,
      value: round(percentile(latencies, 99)),
      unit: 'ms',
      better: 'lower',
      note,
    },
  ];
}
