import {
  BrokenCircuitError,
  circuitBreaker as breakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  handleWhen,
  type IBreaker,
  SamplingBreaker,
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
  /** Consecutive failures that open the breaker; default 5. Ignored when `failureRate` is set. */
  failureThreshold?: number;
  /** Open on a failure rate over a sliding window instead of a run of consecutive failures. */
  failureRate?: FailureRateRule;
  /** Milliseconds the breaker stays open before one trial call; default 10 000. */
  halfOpenAfterMs?: number;
  /** Which errors count as failures of the downstream; default every error but bad input. */
  isFailure?: (error: unknown) => boolean;
  metrics?: KeelMetrics;
  logger?: Logger;
  /** Told of every state change, e.g. to publish it as an event. */
  onStateChange?: (name: string, state: CircuitBreakerState) => void;
}

/** Opens the breaker when more than `threshold` of the calls over the last `windowMs` failed. */
export interface FailureRateRule {
  /** Share of failed calls, above 0 and below 1, e.g. 0.5. */
  threshold: number;
  /** Milliseconds of the sliding window the rate is measured over. */
  windowMs: number;
  /** Calls per second below which the rate is not judged (few calls say little); default 5. */
  minimumRps?: number;
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
  const isFailure = options.isFailure ?? isRetryableByDefault;
  const counting = countingBreaker(options);
  const policy = breakerPolicy(handleWhen(isFailure), { halfOpenAfter: halfOpenAfterMs, breaker: counting });
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

  // Outcomes in the closed state are counted the moment they are seen, in the order handlers finish.
  const succeeded = () => counting.success(CircuitState.Closed);

  const failedWhileClosed = (
    error: unknown,
    next: HandlerFunction,
    event: CloudEvent,
    context: HandlerContext,
  ): Promise<void> => {
    // The breaker left closed while this attempt ran, opened by the failures before it: they already
    // decided, so the error goes on as it is rather than counting against a state it never ran in.
    if (policy.state !== CircuitState.Closed || !isFailure(error) || !counting.failedWhileClosed()) {
      return Promise.reject(error);
    }
    // This failure crossed the rule: cockatiel hears of it, opens, and rethrows it.
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

/** The breaker rule cockatiel consults, counting the closed state's failures when the middleware sees them. */
interface CountingBreaker extends IBreaker {
  /** Counts a failure seen in the closed state now; true when it crossed the rule (the breaker must open). */
  failedWhileClosed(): boolean;
}

/**
 * Wraps the rule (consecutive failures or a failure rate) so that a failure is counted in the same step as
 * a success is: counted later, after cockatiel's own asynchronous steps, the failures of handlers that
 * finish together would be counted after their neighbours' successes and look consecutive.
 */
function countingBreaker(options: CircuitBreakerOptions): CountingBreaker {
  const rule: IBreaker =
    options.failureRate === undefined
      ? new ConsecutiveBreaker(options.failureThreshold ?? 5)
      : new SamplingBreaker({
          threshold: options.failureRate.threshold,
          duration: options.failureRate.windowMs,
          minimumRps: options.failureRate.minimumRps ?? 5,
        });
  // Set when a counted failure crossed the rule: the next failure cockatiel reports is that one.
  let crossed = false;
  return {
    get state() {
      return rule.state;
    },
    set state(value: unknown) {
      rule.state = value;
    },
    success: (state) => rule.success(state),
    failure: (state) => {
      if (!crossed) return rule.failure(state);
      crossed = false;
      return true;
    },
    failedWhileClosed: () => {
      crossed = rule.failure(CircuitState.Closed);
      return crossed;
    },
  };
}
