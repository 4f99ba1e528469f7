import { KeelError } from '../errors/keel-error.ts';
import type { CompensationContext } from './define-workflow.ts';
import { applyEvents, type Drive } from './drive-session.ts';
import { NonRetryableError, StepTimeoutError } from './errors.ts';
import { errorInfoOf, type NewEvent, stepCompletion, stepContext, stepFailure } from './planner.ts';
import {
  CommandPublished,
  CompensationFailed,
  StepCompensated,
  WorkflowNeedsOperator,
} from './workflow-events.ts';

/** An action aborted because its instance was cancelled: nothing is recorded for the attempt. */
class CancelledSignal extends KeelError {
  readonly code = 'KEEL_WORKFLOW_CANCELLED';
  constructor() {
    super('the instance was cancelled');
  }
}

/** An action aborted because its instance's time-out passed: the attempt fails as timed out. */
class WorkflowDeadline extends KeelError {
  readonly code = 'KEEL_WORKFLOW_DEADLINE';
  constructor() {
    super("the instance's time-out passed");
  }
}

/** Resolves with the work's result, or rejects with the signal's reason as soon as it aborts. */
function raceAbort<T>(work: () => unknown, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve()
      .then(work)
      .then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value as T);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
  });
}

/** JSON as it will be read back from the store (undefined becomes null, dates strings, ...). */
const asJson = (value: unknown): unknown => (value === undefined ? null : JSON.parse(JSON.stringify(value)));

/** An abort signal for one effect, and how to let go of what it listens to. */
interface EffectSignal {
  signal: AbortSignal;
  dispose(): void;
}

/**
 * A signal for one effect: aborted by a lost lease, a hard stop, the step's time-out, and for forward
 * actions a cancel or the instance's time-out (a compensation runs to its end whatever happens).
 */
function effectSignal(
  drive: Drive,
  timeoutAt: number | undefined,
  stepLabel: string,
  timeoutMs: number | undefined,
  forward: boolean,
): EffectSignal {
  const { handle } = drive;
  const controller = new AbortController();
  const timers: NodeJS.Timeout[] = [];
  const abort = (reason: unknown) => {
    if (!controller.signal.aborted) controller.abort(reason);
  };
  const onStop = () => abort(handle.stop.reason as unknown);
  const onCancelAbort = () => abort(new CancelledSignal());
  handle.stop.addEventListener('abort', onStop, { once: true });
  if (forward) handle.cancel.addEventListener('abort', onCancelAbort, { once: true });
  if (handle.stop.aborted) onStop();
  if (forward && handle.cancel.aborted) onCancelAbort();
  const now = Date.now();
  if (timeoutAt !== undefined) {
    timers.push(
      setTimeout(() => abort(new StepTimeoutError(stepLabel, timeoutMs ?? 0)), Math.max(0, timeoutAt - now)),
    );
  }
  const deadline = forward && drive.state.status === 'running' ? drive.state.deadline : undefined;
  if (deadline !== undefined)
    timers.push(setTimeout(() => abort(new WorkflowDeadline()), Math.max(0, deadline - now)));
  return {
    signal: controller.signal,
    dispose() {
      for (const timer of timers) clearTimeout(timer);
      handle.stop.removeEventListener('abort', onStop);
      handle.cancel.removeEventListener('abort', onCancelAbort);
    },
  };
}

/** Runs the started step's action and applies its completion or failure; false: stop driving (lease lost, hard stop). */
export async function runAction(drive: Drive, index: number): Promise<boolean> {
  const { handle } = drive;
  const spec = drive.definition.steps[index]!;
  const step = drive.state.steps[index]!;
  const effect = effectSignal(drive, step.timeoutAt, spec.name, spec.timeoutMs, true);
  const context = stepContext(drive.state, spec, step.attempt, effect.signal);
  try {
    const output = await raceAbort(() => spec.action!(context as never), effect.signal);
    if (handle.stop.aborted) return false;
    const now = Date.now();
    const completion = stepCompletion(spec, step, asJson(output), now);
    completion.data.instanceId = handle.instanceId;
    applyEvents(drive, [completion], now);
    return true;
  } catch (error) {
    if (handle.stop.aborted) return false;
    // Cancelled mid-action: nothing is recorded for the attempt; the inbox's cancel decides what follows.
    if (error instanceof CancelledSignal) {
      drive.inboxKnown = false;
      return true;
    }
    const now = Date.now();
    const timedOut = error instanceof StepTimeoutError || error instanceof WorkflowDeadline;
    const failure = stepFailure(
      spec,
      step,
      timedOut ? 'timeout' : 'error',
      errorInfoOf(error),
      now,
      !(error instanceof NonRetryableError),
    );
    failure.data.instanceId = handle.instanceId;
    applyEvents(drive, [failure], now);
    return true;
  } finally {
    effect.dispose();
  }
}

/** Publishes the started command step's command and applies CommandPublished (or the failure); false: stop driving. */
export async function publishCommand(drive: Drive, index: number): Promise<boolean> {
  const { deps, handle, state } = drive;
  const { instanceId } = handle;
  const spec = drive.definition.steps[index]!;
  const step = state.steps[index]!;
  const command = spec.command!;
  const now = Date.now();
  try {
    if (deps.publisher === undefined) {
      throw new NonRetryableError(
        `step "${spec.name}" publishes a command, but the engine has no bus: pass the bus option`,
        'KEEL_WORKFLOW_NO_BUS',
      );
    }
    const data = command.data(stepContext(state, spec, step.attempt, handle.stop) as never);
    // The command's id is fixed when the step starts, so a re-publish after a crash is the same event.
    await deps.publisher.publish(command.event, data as never, {
      id: step.commandId!,
      correlationId: state.correlationId,
      causationId: instanceId,
      tenantId: state.tenantId,
    });
  } catch (error) {
    if (handle.stop.aborted) return false;
    const failure = stepFailure(
      spec,
      step,
      'error',
      errorInfoOf(error),
      now,
      !(error instanceof NonRetryableError),
    );
    failure.data.instanceId = instanceId;
    applyEvents(drive, [failure], Date.now());
    return true;
  }
  const published: NewEvent = {
    definition: CommandPublished,
    data: {
      instanceId,
      step: spec.name,
      index,
      attempt: step.attempt,
      commandId: step.commandId!,
      commandType: command.event.type,
    },
  };
  applyEvents(drive, [published], Date.now());
  return true;
}

/** The events of a failed compensation attempt: a retry later, or an operator once attempts run out. */
function compensationFailure(
  drive: Drive,
  index: number,
  attempt: number,
  error: unknown,
  now: number,
): NewEvent[] {
  const { instanceId } = drive.handle;
  const spec = drive.definition.steps[index]!;
  const policy = drive.definition.compensationRetry;
  const final = attempt >= policy.maxAttempts || error instanceof NonRetryableError;
  const info = errorInfoOf(error);
  const retryAt = now + Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** (attempt - 1));
  const events: NewEvent[] = [
    {
      definition: CompensationFailed,
      data: {
        instanceId,
        step: spec.name,
        index,
        attempt,
        error: info,
        final,
        ...(final ? {} : { retryAt }),
      },
    },
  ];
  if (final) {
    events.push({ definition: WorkflowNeedsOperator, data: { instanceId, step: spec.name, error: info } });
  }
  return events;
}

/** Runs the compensation of the step at `index` and applies its outcome; false: stop driving. */
export async function compensateStep(drive: Drive, index: number): Promise<boolean> {
  const { handle, state } = drive;
  const { instanceId } = handle;
  const spec = drive.definition.steps[index]!;
  const step = state.steps[index]!;
  const attempt = step.compensationAttempt + 1;
  const started = Date.now();
  const effect = effectSignal(
    drive,
    spec.timeoutMs === undefined ? undefined : started + spec.timeoutMs,
    `${spec.name} (compensation)`,
    spec.timeoutMs,
    false,
  );
  const context: CompensationContext = {
    ...stepContext(state, spec, attempt, effect.signal),
    idempotencyKey: `${instanceId}:${spec.name}:compensate`,
    output: step.output,
    reason: state.compensation!.reason,
  };
  try {
    await raceAbort(() => spec.compensate!(context as never), effect.signal);
    if (handle.stop.aborted) return false;
    const now = Date.now();
    const compensated: NewEvent = {
      definition: StepCompensated,
      data: { instanceId, step: spec.name, index, attempt, durationMs: Math.max(0, now - started) },
    };
    applyEvents(drive, [compensated], now);
    return true;
  } catch (error) {
    if (handle.stop.aborted) return false;
    const now = Date.now();
    applyEvents(drive, compensationFailure(drive, index, attempt, error, now), now);
    return true;
  } finally {
    effect.dispose();
  }
}
