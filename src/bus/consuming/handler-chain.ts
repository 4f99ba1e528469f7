import type { Logger } from 'pino';
import type { EventDefinition } from '../../events/define-event.ts';
import type { KeelMetrics } from '../../observability/metrics.ts';
import type { Transport } from '../../transport/transport.ts';
import type { Inbox } from '../inbox/inbox.ts';
import {
  type CircuitBreakerState,
  circuitBreaker,
  type HandlerCircuitBreaker,
} from '../middleware/circuit-breaker.ts';
import { correlation } from '../middleware/correlation.ts';
import { dedupe } from '../middleware/dedupe.ts';
import { metrics as metricsMiddleware } from '../middleware/metrics.ts';
import type { Middleware } from '../middleware/middleware.ts';
import { type RetryOptions, retry } from '../middleware/retry.ts';
import { timeout } from '../middleware/timeout.ts';
import { tracing } from '../middleware/tracing.ts';
import { validation } from '../middleware/validation.ts';
import type { BreakerSettings, HandlerOptions } from '../router-port.ts';

/** The router settings its handlers' chains are built from. */
export interface ChainSettings {
  transport: Transport;
  metrics?: KeelMetrics;
  logger: Logger;
  middleware: readonly Middleware[];
  inbox?: Inbox;
  validate: boolean;
  tracing: boolean;
  retry: RetryOptions | false;
  isRetryable: (error: unknown) => boolean;
  timeoutMs?: number;
  circuitBreaker?: BreakerSettings | false;
  /** Told of every breaker's state changes. */
  onBreakerChange: (name: string, state: CircuitBreakerState) => void;
}

/** A handler's middleware, outermost first, and its breaker (to report its state). */
export interface HandlerChain {
  layers: Middleware[];
  breaker: HandlerCircuitBreaker | undefined;
}

/**
 * The middleware of a handler, outermost first: correlation, tracing, metrics, the router's own
 * middleware, dedupe, validation, immediate retries, circuit breaker, timeout. A batch handler's chain
 * is the same but for validation, which a batch route does per event before batching; each layer's
 * meaning for a batch call is in its own doc comment (`HandlerContext.batch` holds the events).
 */
export function handlerChain(
  settings: ChainSettings,
  definition: EventDefinition,
  name: string,
  options: HandlerOptions,
  kind: 'single' | 'batch',
): HandlerChain {
  const { metrics, logger } = settings;
  const breakerSettings = options.circuitBreaker ?? settings.circuitBreaker;
  const breaker =
    breakerSettings === false
      ? undefined
      : circuitBreaker({
          name,
          ...breakerSettings,
          ...(metrics === undefined ? {} : { metrics }),
          logger,
          onStateChange: settings.onBreakerChange,
        });
  const timeoutMs = options.timeoutMs ?? settings.timeoutMs;
  const system = settings.transport.name === 'kafka' ? 'kafka' : 'keel';
  const layers: Middleware[] = [
    correlation(),
    ...(settings.tracing ? [tracing({ system })] : []),
    ...(metrics === undefined ? [] : [metricsMiddleware(metrics)]),
    ...settings.middleware,
    ...(settings.inbox === undefined ? [] : [dedupe(settings.inbox)]),
    ...(settings.validate && kind === 'single' ? [validation(definition)] : []),
    ...(settings.retry === false ? [] : [retry({ isRetryable: settings.isRetryable, ...settings.retry })]),
    ...(breaker === undefined ? [] : [breaker.middleware]),
    ...(timeoutMs === undefined ? [] : [timeout(timeoutMs)]),
  ];
  return { layers, breaker };
}
