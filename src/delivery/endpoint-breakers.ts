import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
} from 'cockatiel';
import type { Logger } from 'pino';
import { abortableSleep } from '../bus/abortable-sleep.ts';
import { DeliveryFailedError } from './errors.ts';

/** When an endpoint's breaker opens and how long it stays open. */
export interface EndpointBreakerSettings {
  /** Consecutive failed requests to one endpoint that open its breaker; default 5. */
  failureThreshold: number;
  /** Milliseconds it stays open before one trial request; default 5 000. */
  halfOpenAfterMs: number;
}

/** State of one endpoint's breaker. */
export type EndpointState = 'closed' | 'open' | 'half-open';

/** One breaker per endpoint (scheme, host and port), shared by every subscription sending there. */
export interface EndpointBreakers {
  /**
   * Runs one request to the endpoint of `url` through its breaker. While the breaker is open the call waits
   * (no request is sent, no attempt is spent) until a trial may go, or `signal` aborts; other endpoints are
   * not touched by the wait. Failures that count: no answer, 5xx, 429.
   */
  run<T>(url: string, request: () => Promise<T>, signal: AbortSignal): Promise<T>;
  /** Each endpoint's state, by origin. */
  states(): Record<string, EndpointState>;
}

const stateNames: Record<number, EndpointState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'open',
};

/** Whether an error says the endpoint is unwell (rather than that it refused this one event). */
function isEndpointFailure(error: unknown): boolean {
  if (!(error instanceof DeliveryFailedError)) return false;
  return error.status === undefined || error.status >= 500 || error.status === 429;
}

/** Creates the per-endpoint breakers (cockatiel's consecutive breaker). */
export function createEndpointBreakers(settings: EndpointBreakerSettings, logger: Logger): EndpointBreakers {
  const breakers = new Map<string, CircuitBreakerPolicy>();
  const breakerOf = (origin: string) => {
    let policy = breakers.get(origin);
    if (policy === undefined) {
      policy = circuitBreaker(handleWhen(isEndpointFailure), {
        halfOpenAfter: settings.halfOpenAfterMs,
        breaker: new ConsecutiveBreaker(settings.failureThreshold),
      });
      policy.onStateChange((state) =>
        logger.warn({ endpoint: origin, state: stateNames[state] }, `endpoint breaker ${stateNames[state]}`),
      );
      breakers.set(origin, policy);
    }
    return policy;
  };
  // Waiting callers look again this often, so a trial that succeeds lets them go soon after.
  const pollMs = Math.max(10, Math.min(250, settings.halfOpenAfterMs / 4));
  return {
    async run(url, request, signal) {
      const policy = breakerOf(new URL(url).origin);
      for (;;) {
        try {
          return await policy.execute(request);
        } catch (error) {
          if (!(error instanceof BrokenCircuitError) || signal.aborted) throw error;
          await abortableSleep(pollMs, signal);
        }
      }
    },
    states() {
      return Object.fromEntries(
        [...breakers].map(([origin, policy]) => [origin, stateNames[policy.state] ?? 'closed']),
      );
    },
  };
}
