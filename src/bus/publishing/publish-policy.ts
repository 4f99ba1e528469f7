import {
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleWhen,
  type IBreaker,
  isBrokenCircuitError,
  type RetryPolicy,
  retry,
  SamplingBreaker,
} from 'cockatiel';
import type { Logger } from 'pino';
import { z } from 'zod';
import { parseOptions as parseComponentOptions } from '../../errors/options.ts';
import type { KeelMetrics } from '../../observability/metrics.ts';
import type { FailureRateRule } from '../middleware/circuit-breaker.ts';
import { PublisherClosedError, PublisherOptionsError } from './errors.ts';

/** How a publisher retries an append that failed for a transport or IO reason. */
export interface PublishRetryOptions {
  /** Appends tried per publish before it goes to the local buffer (or fails), the first one included; default 3. */
  attempts?: number;
  /** Milliseconds before the first retry; later ones grow exponentially, with jitter; default 100. */
  initialDelayMs?: number;
  /** Longest wait between two tries, in milliseconds (also bounds the buffer flusher's probes); default 2 000. */
  maxDelayMs?: number;
}

/** When the publisher's circuit breaker opens and when it tries again. */
export interface PublishBreakerOptions {
  /** Consecutive failed appends that open the breaker; default 5. Ignored when `failureRate` is set. */
  threshold?: number;
  /** Open on a failure rate over a sliding window instead of a run of consecutive failures. */
  failureRate?: FailureRateRule;
  /** Milliseconds the breaker stays open before one trial append may close it; default 1 000. */
  halfOpenAfterMs?: number;
}

const positiveInt = (what: string) =>
  z.int({ error: `expected ${what}` }).min(1, { error: `expected ${what}` });
const millis = z.int({ error: 'expected milliseconds ≥ 0' }).min(0, { error: 'expected milliseconds ≥ 0' });

/** Retry options with their defaults. */
export const retryOptionsSchema = z.strictObject({
  attempts: positiveInt('an integer ≥ 1').default(3),
  initialDelayMs: millis.default(100),
  maxDelayMs: millis.default(2_000),
});

/** Default largest encoded event, in bytes (1 MiB, Kafka's default `max.message.bytes`). */
export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;

/** The publisher's own settings with their defaults (`maxEventBytes` in encoded bytes). */
export const publisherSettingsSchema = z.object({
  name: z.string().min(1, { error: 'expected a non-empty name' }).default('publisher'),
  maxEventBytes: positiveInt('bytes ≥ 1').default(DEFAULT_MAX_EVENT_BYTES),
});

const share = z
  .number({ error: 'expected a share between 0 and 1' })
  .gt(0, { error: 'expected a share between 0 and 1' })
  .lt(1, { error: 'expected a share between 0 and 1' });

/** Circuit breaker options with their defaults. */
export const breakerOptionsSchema = z.strictObject({
  threshold: positiveInt('an integer ≥ 1').default(5),
  halfOpenAfterMs: positiveInt('milliseconds ≥ 1').default(1_000),
  failureRate: z
    .strictObject({
      threshold: share,
      windowMs: positiveInt('milliseconds ≥ 1'),
      minimumRps: z.number({ error: 'expected calls per second ≥ 0' }).min(0).default(5),
    })
    .optional(),
});

/** Parses publisher options with `schema`, throwing a PublisherOptionsError that names each broken key under `prefix`. */
export function parseOptions<Schema extends z.ZodType>(
  schema: Schema,
  value: unknown,
  prefix: string,
): z.output<Schema> {
  return parseComponentOptions(schema, value, prefix, (issues) => new PublisherOptionsError(issues));
}

const NON_RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'KEEL_VALIDATION',
  'KEEL_UNKNOWN_EVENT_TYPE',
  'KEEL_UPCAST',
  'KEEL_EVENT_TOO_LARGE',
  'KEEL_TRANSPORT_UNKNOWN_TOPIC',
  'KEEL_TRANSPORT_CLOSED',
  'KEEL_PUBLISHER_CLOSED',
  'KEEL_PUBLISH_BUFFER_FULL',
  'KEEL_TRANSACTIONS_UNSUPPORTED',
]);

/**
 * The default retry rule: transport and IO failures (SQLite busy, broker unreachable, timeouts) are
 * worth retrying; bad input (validation, unknown type or topic, too large), a closed transport or
 * publisher, programming errors (TypeError, RangeError) and an open breaker are not.
 */
export function isRetryablePublishError(error: unknown): boolean {
  if (isBrokenCircuitError(error)) return false;
  if (error instanceof TypeError || error instanceof RangeError) return false;
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return !(typeof code === 'string' && NON_RETRYABLE_CODES.has(code));
}

/** What the policy needs. */
export interface PublishPolicyOptions {
  /** Breaker name in metrics and logs. */
  name: string;
  retry: z.output<typeof retryOptionsSchema>;
  breaker: z.output<typeof breakerOptionsSchema>;
  isRetryable: (error: unknown) => boolean;
  metrics: KeelMetrics | undefined;
  logger: Logger;
}

/** Breaker state as exported in `keel_circuit_breaker_state`. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** Retry with backoff and a circuit breaker around the transport's append (cockatiel). */
export interface PublishPolicy {
  /** Runs one append through the breaker (throws cockatiel's BrokenCircuitError when open). */
  once<T>(append: () => Promise<T>): Promise<T>;
  /**
   * Retries a publish whose first append failed with `firstError`: waits the backoff, then tries again
   * through the breaker, up to `attempts` tries in all. Throws the last error when they run out, the
   * breaker's error when it opens, at once a non-retryable error, or PublisherClosedError on abort.
   */
  retry<T>(firstError: unknown, append: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Tries `append` through the breaker with backoff until it succeeds, a non-retryable error, or `signal` aborts. */
  probe<T>(append: () => Promise<T>, signal: AbortSignal): Promise<T>;
  /** Whether a failed append may succeed if tried again. */
  isRetryable(error: unknown): boolean;
  /** Whether an error means the breaker is open. */
  isCircuitOpen(error: unknown): boolean;
  /** Current breaker state. */
  state(): BreakerState;
  /** Stops listening to the breaker. */
  dispose(): void;
}

const gaugeValue: Record<CircuitState, number> = {
  [CircuitState.Closed]: 0,
  [CircuitState.Open]: 1,
  [CircuitState.HalfOpen]: 2,
  [CircuitState.Isolated]: 1,
};
const stateName: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'open',
};

// A run of consecutive failures by default, or a failure rate over a sliding window.
function breakerRule(options: z.output<typeof breakerOptionsSchema>): IBreaker {
  const rate = options.failureRate;
  if (rate === undefined) return new ConsecutiveBreaker(options.threshold);
  return new SamplingBreaker({
    threshold: rate.threshold,
    duration: rate.windowMs,
    minimumRps: rate.minimumRps,
  });
}

/** Creates the publisher's retry and circuit breaker policies and reports the breaker's state. */
export function createPublishPolicy(options: PublishPolicyOptions): PublishPolicy {
  const { name, metrics, logger, isRetryable } = options;
  const backoff = () =>
    new ExponentialBackoff({
      initialDelay: options.retry.initialDelayMs,
      maxDelay: options.retry.maxDelayMs,
    });
  // Only transport failures count against the breaker: a burst of invalid events must not open it.
  const breaker: CircuitBreakerPolicy = circuitBreaker(handleWhen(isRetryable), {
    halfOpenAfter: options.breaker.halfOpenAfterMs,
    breaker: breakerRule(options.breaker),
  });
  const retries: RetryPolicy = retry(handleWhen(isRetryable), {
    maxAttempts: options.retry.attempts - 1,
    backoff: backoff(),
  });
  const probes: RetryPolicy = retry(
    handleWhen((error) => isRetryable(error) || isBrokenCircuitError(error)),
    { maxAttempts: Number.POSITIVE_INFINITY, backoff: backoff() },
  );

  metrics?.circuitBreakerState.set({ name }, 0);
  const listener = breaker.onStateChange((state) => {
    metrics?.circuitBreakerState.set({ name }, gaugeValue[state]);
    const failure = breaker.lastFailure;
    const err = failure && 'error' in failure ? failure.error : undefined;
    if (state === CircuitState.Closed) logger.info({ breaker: name }, 'publisher circuit breaker closed');
    else if (state === CircuitState.HalfOpen)
      logger.info({ breaker: name }, 'publisher circuit breaker half-open: trying the transport');
    else
      logger.warn(
        { breaker: name, err, halfOpenAfterMs: options.breaker.halfOpenAfterMs },
        'publisher circuit breaker open: the transport keeps failing',
      );
  });

  const closedCheck = (signal: AbortSignal | undefined) => {
    if (signal?.aborted) throw new PublisherClosedError('publish');
  };

  return {
    once: (append) => breaker.execute(append),
    retry: (firstError, append, signal) =>
      retries.execute(({ attempt }) => {
        // cockatiel waits its backoff after a failed try: replaying the first failure makes the
        // first real retry wait too, instead of hitting the transport again at once.
        if (attempt === 0) throw firstError;
        closedCheck(signal);
        return breaker.execute(append);
      }, signal),
    probe: (append, signal) =>
      probes.execute(() => {
        closedCheck(signal);
        return breaker.execute(append);
      }, signal),
    isRetryable,
    isCircuitOpen: isBrokenCircuitError,
    state: () => stateName[breaker.state],
    dispose: () => listener.dispose(),
  };
}
