import { ExponentialBackoff, handleWhen, retry as retryPolicy } from 'cockatiel';
import { z } from 'zod';
import { parseOptions } from '../../errors/options.ts';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { abortableSleep } from '../abortable-sleep.ts';
import type { HandlerContext } from './handler-context.ts';
import { afterNext, type HandlerFunction, type Middleware } from './middleware.ts';

/** Immediate retries: how many attempts, how long between them, and which errors deserve another. */
export interface RetryOptions {
  /** Attempts in all, the first included; default 3. */
  maxAttempts?: number;
  /** Milliseconds before the second attempt; later waits grow exponentially, with jitter; default 100. */
  initialDelayMs?: number;
  /** Longest wait between attempts, in milliseconds; default 5 000. */
  maxDelayMs?: number;
  /** Whether an error is worth another attempt; default every error but bad input. */
  isRetryable?: (error: unknown) => boolean;
}

/** True for errors a retry could cure: not bad input (validation, unknown type, undecodable, upcast). */
export function isRetryableByDefault(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code !== 'KEEL_VALIDATION' && code !== 'KEEL_UNKNOWN_EVENT_TYPE' && code !== 'KEEL_UPCAST';
}

const millis = z.int({ error: 'expected milliseconds ≥ 0' }).min(0, { error: 'expected milliseconds ≥ 0' });

/** Retry options with their defaults (see RetryOptions). */
export const retryOptionsSchema = z.object({
  maxAttempts: z
    .int({ error: 'expected an integer ≥ 1' })
    .min(1, { error: 'expected an integer ≥ 1' })
    .default(3),
  initialDelayMs: millis.default(100),
  maxDelayMs: millis.default(5_000),
  isRetryable: z
    .custom<(error: unknown) => boolean>((value) => typeof value === 'function', {
      error: 'expected a function',
    })
    .default(() => isRetryableByDefault),
});

// How many attempts the retry layer made at the event that ended with each error it gave up with. Written
// only when it gives up after a second attempt, so a handler that succeeds costs nothing here.
const attemptsByFailure = new WeakMap<object, number>();

/**
 * Attempts a retry layer made before giving up with `error`: 1 when no retry layer saw it retried (no
 * retry layer, a first failure not worth retrying, a failure outside the layer). An error object thrown
 * for several events at once reports the count of whichever event gave up last.
 */
export function attemptsMade(error: unknown): number {
  return (typeof error === 'object' && error !== null && attemptsByFailure.get(error)) || 1;
}

// A first attempt that succeeded leaves nothing to do.
const succeeded = () => {};

/**
 * Retries a failed handler in place with exponential backoff and jitter (cockatiel's decorrelated
 * jitter); the context's `attempt` counts from 1. Errors that are not retryable pass straight through,
 * and `attemptsMade(error)` tells how many attempts ended with the error that got through.
 */
export function retry(options: RetryOptions = {}): Middleware {
  const { isRetryable, maxAttempts, initialDelayMs, maxDelayMs } = parseOptions(
    retryOptionsSchema,
    options,
    'retry',
  );
  // Attempts after the second: cockatiel runs them, each after a growing, jittered wait.
  const later = retryPolicy(handleWhen(isRetryable), {
    maxAttempts: Math.max(0, maxAttempts - 2),
    backoff: new ExponentialBackoff({ initialDelay: initialDelayMs * 2, maxDelay: maxDelayMs }),
  });
  // After a first failure: the second attempt after a short jittered wait, later ones through cockatiel.
  const retryAfter = async (
    error: unknown,
    next: HandlerFunction,
    event: CloudEvent,
    context: HandlerContext,
  ): Promise<void> => {
    if (maxAttempts < 2 || !isRetryable(error) || context.signal.aborted) throw error;
    await abortableSleep(initialDelayMs * (0.5 + Math.random()), context.signal);
    let made = 1;
    try {
      // The router's signal also cuts a backoff wait short when it shuts down.
      return await later.execute(({ attempt }) => {
        made = attempt + 2;
        return next(event, { ...context, attempt: made });
      }, context.signal);
    } catch (failure) {
      if (typeof failure === 'object' && failure !== null) attemptsByFailure.set(failure, made);
      throw failure;
    }
  };
  // The first attempt runs bare: most events succeed, and a policy's bookkeeping would cost every one.
  return (next) => (event, context) =>
    afterNext(next, event, context, succeeded, (error: unknown) => retryAfter(error, next, event, context));
}
