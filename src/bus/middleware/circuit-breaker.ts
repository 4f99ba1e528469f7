import {
  BrokenCircuitError,
  circuitBreaker as breakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  handleWhen,
} from 'cockatiel';
import type { Logger } from 'pino';
import type { KeelMetrics } from '../../observability/metrics.ts';
import type { Middleware } from './middleware.ts';
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
  const policy = breakerPolicy(handleWhen(options.isFailure ?? isRetryableByDefault), {
    halfOpenAfter: halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(options.failureThreshold ?? 5),
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

  return {
    state: current,
    middleware: (next) => async (event, context) => {
      for (;;) {
        try {
          return await policy.execute(() => next(event, context));
        } catch (error) {
          if (!(error instanceof BrokenCircuitError) || context.signal.aborted) throw error;
          await waitWhileOpen(context.signal);
        }
      }
    },
  };
}
