import { z } from 'zod';
import { defineWorkflow, type StepContext } from '../define-workflow.ts';
import { NonRetryableError } from '../errors.ts';
import type { Effects } from './effects.ts';

/** Hooks a child process puts inside actions, to stop (or hold) at an exact point. */
export interface ActionProbe {
  /** Called inside every action after its effect is applied and before it returns. */
  insideStep(context: StepContext<unknown>): Promise<void>;
}

const jitter = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * ms));

/**
 * The crash test's saga: reserve → admit → assign, each an idempotent effect keyed by its idempotency key
 * (with random pauses before and after, so a kill can land anywhere); `assign` refuses when the input
 * says so, and the completed steps are compensated (again idempotently).
 */
export function crashSaga(effects: Effects, probe: ActionProbe) {
  const act = (step: string) => async (ctx: StepContext<{ fail: boolean }>) => {
    await effects.attempt(ctx.idempotencyKey);
    await jitter(15);
    if (step === 'assign' && ctx.input.fail) throw new NonRetryableError('no bed can be assigned');
    await effects.apply(ctx.idempotencyKey, ctx.instanceId, step, 'do');
    await probe.insideStep(ctx as StepContext<unknown>);
    await jitter(10);
    return { step, by: process.pid };
  };
  const undo = (step: string) => async (ctx: StepContext<unknown> & { idempotencyKey: string }) => {
    await effects.attempt(ctx.idempotencyKey);
    await jitter(10);
    await effects.apply(ctx.idempotencyKey, ctx.instanceId, step, 'undo');
  };
  return defineWorkflow({
    id: 'crash-saga',
    version: 1,
    input: z.object({ fail: z.boolean() }),
    steps: [
      { name: 'reserve', action: act('reserve'), compensate: undo('reserve') },
      { name: 'admit', action: act('admit'), compensate: undo('admit') },
      { name: 'assign', action: act('assign'), retry: { maxAttempts: 1 } },
    ],
  });
}

/** The timer test's workflow: one step waits for a signal that never comes, with a 2 s time-out. */
export const waitingWorkflow = defineWorkflow({
  id: 'timer-wait',
  version: 1,
  steps: [
    { name: 'prepare', action: () => 'prepared' },
    { name: 'await-result', waitForSignal: 'result', timeoutMs: 2_000, retry: { maxAttempts: 1 } },
  ],
});

/** The scale-out test's workflow: three short steps, each recording which process ran it and when. */
export function scaleWorkflow(effects: Effects, processName: string, probe: ActionProbe) {
  const step = (name: string) => async (ctx: StepContext<unknown>) => {
    const id = await effects.begin(ctx.instanceId, name, processName);
    await jitter(4);
    await probe.insideStep(ctx);
    await effects.end(id);
    return name;
  };
  return defineWorkflow({
    id: 'scale',
    version: 1,
    steps: [
      { name: 'one', action: step('one') },
      { name: 'two', action: step('two') },
      { name: 'three', action: step('three') },
    ],
  });
}
