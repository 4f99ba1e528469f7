import {
  BrokenCircuitError,
  circuitBreaker as breakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  handleWhen,
} from 'cockatiel';
import type { Logger } from 'pino';
import type { CloudEvent } from '../../events/cloud-event.ts';
import type { KeelMetrics } from '../../observability/metrics.ts';
import type { HandlerContext } from './handler-context.ts';
import { afterNext, type HandlerFunction, type Middleware } from './middleware.ts';
import { isRetryableByDefault } from './retry.ts';

/** When a handler's breaker opens and how long it stays open. */
export interface CircuitBreakerOptions {
  /** Name in metrics and logs, e.g. `admissions:healthcare.patient.created`. */
  name: string;
  /** Consecutive failures that open the breaker; default 5. */
  failureThreshold?: number;
  /** Milliseconds the breaker stays open before one trial call; default 10 000. */
  halfOpenAfterMs?: number;
  /** Which errors count as failures of the downstream; default every error but bad input. */
  isFailure?: (error: unknown) => boolean;
  metrics?: KeelMetrics;
  logger?: Logger;
  /** Told of every state change, e.g. to publish it as an event. */
  onStateChange?: (name: string, state: CircuitBreakerState) => void;
}

/** A breaker's state as Keel reports it (the metric's value in brackets). */
export type CircuitBreakerState = 'closed' | 'open' | 'half-open';

const stateNames: Record<number, CircuitBreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'open',
};
const metricValue: Record<CircuitBreakerState, number> = { closed: 0, open: 1, 'half-open': 2 };

/** A circuit breaker middleware and a way to read its state. */
export interface HandlerCircuitBreaker {
  readonly middleware: Middleware;
  /** Current state. */
  state(): CircuitBreakerState;
}

/**
 * A circuit breaker per handler (cockatiel): after `failureThreshold` consecutive failures it opens,
 * and while it is open the handler's events wait — consumption of that handler pauses — instead of
 * burning retries; after `halfOpenAfterMs` one trial call decides whether it closes again.
 */
export function circuitBreaker(options: CircuitBreakerOptions): HandlerCircuitBreaker {
  const halfOpenAfterMs = options.halfOpenAfterMs ?? 10_000;
  const consecutive = new ConsecutiveBreaker(options.failureThreshold ?? 5);
  const policy = breakerPolicy(handleWhen(options.isFailure ?? isRetryableByDefault), {
    halfOpenAfter: halfOpenAfterMs,
    breaker: consecutive,
  });
  const current = () => stateNames[policy.state] ?? 'closed';
  options.metrics?.circuitBreakerState.set({ name: options.name }, 0);
  policy.onStateChange((state) => {
    const name = stateNames[state] ?? 'closed';
    options.metrics?.circuitBreakerState.set({ name: options.name }, metricValue[name]);
    options.logger?.warn({ breaker: options.name, state: name }, `circuit breaker ${name}`);
    options.onStateChange?.(options.name, name);
  });

  const waitWhileOpen = (signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        listener.dispose();
        signal.removeEventListener('abort', done);
        resolve();
      };
      // Half-open is reached lazily on the next call after halfOpenAfter, so wake then to try.
      const timer = setTimeout(done, halfOpenAfterMs);
      const listener = policy.onReset(done);
      signal.addEventListener('abort', done, { once: true });
    });

  /** Runs attempts through cockatiel, waiting while the breaker is open; `first` replaces the first attempt. */
  const guarded = async (
    next: HandlerFunction,
    event: CloudEvent,
    context: HandlerContext,
    first?: () => Promise<void> | void,
  ): Promise<void> => {
    for (let attempt = first ?? (() => next(event, context)); ; attempt = () => next(event, context)) {
      try {
        return await policy.execute(attempt);
      } catch (error) {
        if (!(error instanceof BrokenCircuitError) || context.signal.aborted) throw error;
        await waitWhileOpen(context.signal);
      }
    }
  };

  // What cockatiel does after a success in the closed state: a success ends a run of failures.
  const succeeded = () => consecutive.success();

  const failedWhileClosed = (
    error: unknown,
    next: HandlerFunction,
    event: CloudEvent,
    context: HandlerContext,
  ): Promise<void> => {
    // The breaker left closed while this attempt ran, opened by the failures before it: they already
    // decided, so the error goes on as it is rather than counting against a state it never ran in.
    if (policy.state !== CircuitState.Closed) return Promise.reject(error);
    // Cockatiel records the failure (and opens when it is one too many) and rethrows it.
    return guarded(next, event, context, () => Promise.reject(error));
  };

  return {
    state: current,
    // While the breaker is closed, an attempt runs bare and cockatiel hears only of its outcome: a
    // successful event skips the policy's two async frames and its result object. Every other state
    // goes through cockatiel, which decides between failing fast, a half-open trial and closing.
    middleware: (next) => (event, context) => {
      if (policy.state !== CircuitState.Closed) return guarded(next, event, context);
      return afterNext(next, event, context, succeeded, (error: unknown) =>
        failedWhileClosed(error, next, event, context),
      );
    },
  };
}
