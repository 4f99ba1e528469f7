// A workflow engine in its own process, for the crash, timer and scale-out tests. Run with Node 24:
//   node engine-process.ts '<json config>'
// Prints `ready` once its worker runs and `parked <instanceId>` when an instance parks; with a marker it
// prints `inside <key>` (in an action, after its effect) or `between <instanceId>` (after a stored step
// transition) and then holds there.
import { pino } from 'pino';
import type { StepContext } from '../define-workflow.ts';
import { createWorkflowEngine } from '../engine.ts';
import { StepCompleted } from '../workflow-events.ts';
import { type DatabaseLocation, openDatabase } from './databases.ts';
import { type EffectsLocation, openEffects } from './effects.ts';
import { type ActionProbe, crashSaga, scaleWorkflow, waitingWorkflow } from './test-workflows.ts';

/** What the parent test asks of the process. */
export interface EngineProcessConfig {
  database: DatabaseLocation;
  effects: EffectsLocation;
  workflow: 'crash-saga' | 'timer-wait' | 'scale';
  /** Name in leases and execution records. */
  workerId: string;
  leaseTtlMs: number;
  concurrency?: number;
  /** Hold inside the n-th action (from 1), or after the n-th stored step completion. */
  marker?: { at: 'inside-step' | 'between-steps'; n: number; holdMs?: number };
}

const config = JSON.parse(process.argv[2]!) as EngineProcessConfig;
const say = (line: string) => process.stdout.write(`${line}\n`);
const hold = (ms: number | undefined) =>
  new Promise<void>((resolve) => {
    if (ms !== undefined) setTimeout(resolve, ms);
  });

const db = await openDatabase(config.database);
const effects = await openEffects(config.effects);
let actions = 0;
let completions = 0;
const probe: ActionProbe = {
  async insideStep(context: StepContext<unknown>) {
    actions++;
    if (config.marker?.at === 'inside-step' && actions === config.marker.n) {
      say(`inside ${context.idempotencyKey}`);
      await hold(config.marker.holdMs);
    }
  },
};
const workflow =
  config.workflow === 'crash-saga'
    ? crashSaga(effects, probe)
    : config.workflow === 'scale'
      ? scaleWorkflow(effects, config.workerId, probe)
      : waitingWorkflow;
const engine = createWorkflowEngine({
  store: db.store,
  backend: db.backend,
  workflows: [workflow],
  workerId: config.workerId,
  leaseTtlMs: config.leaseTtlMs,
  pollIntervalMs: 25,
  concurrency: config.concurrency ?? 16,
  logger: pino({ level: process.env.KEEL_TEST_CHILD_LOG ?? 'silent' }, pino.destination(2)),
  async onTransition(transition) {
    if (transition.status === 'waiting') say(`parked ${transition.instanceId}`);
    if (!transition.events.some((e) => e.event.type === StepCompleted.type)) return;
    completions++;
    if (config.marker?.at === 'between-steps' && completions === config.marker.n) {
      say(`between ${transition.instanceId}`);
      await hold(config.marker.holdMs);
    }
  },
});
process.on('SIGTERM', () => {
  void engine.close(2_000).then(async () => {
    await effects.close();
    await db.close();
    process.exit(0);
  });
});
await engine.startWorker();
say('ready');
