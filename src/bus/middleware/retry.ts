import { ExponentialBackoff, handleWhen, retry as retryPolicy } from 'cockatiel';
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

// A first attempt that succeeded leaves nothing to do.
const succeeded = () => {};

/**
 * Retries a failed handler in place with exponential backoff and jitter (cockatiel's decorrelated
 * jitter); the context's `attempt` counts from 1. Errors that are not retryable pass straight through.
 */
export function retry(options: RetryOptions = {}): Middleware {
  const isRetryable = options.isRetryable ?? isRetryableByDefault;
  const maxAttempts = options.maxAttempts ?? 3;
  const initialDelayMs = options.initialDelayMs ?? 100;
  // Attempts after the second: cockatiel runs them, each after a growing, jittered wait.
  const later = retryPolicy(handleWhen(isRetryable), {
    maxAttempts: Math.max(0, maxAttempts - 2),
    backoff: new ExponentialBackoff({
      initialDelay: initialDelayMs * 2,
      maxDelay: options.maxDelayMs ?? 5_000,
    }),
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
    // The router's signal also cuts a backoff wait short when it shuts down.
    return later.execute(({ attempt }) => next(event, { ...context, attempt: attempt + 2 }), context.signal);
  };
  // The first attempt runs bare: most events succeed, and a policy's bookkeeping would cost every one.
  return (next) => (event, context) =>
    afterNext(next, event, context, succeeded, (error: unknown) => retryAfter(error, next, event, context));
}
