// The Router port: handlers, their settings, and what a router offers and reports.
import type { Logger } from 'pino';
import type { Catalog } from '../events/catalog.ts';
import type { CloudEvent } from '../events/cloud-event.ts';
import type { EventData, EventDefinition } from '../events/define-event.ts';
import type { KeelMetrics } from '../observability/metrics.ts';
import type { Identity } from '../security/identity/identity.ts';
import type { StartFrom, TopicPartition, Transport } from '../transport/transport.ts';
import type { Inbox } from './inbox/inbox.ts';
import type { CircuitBreakerOptions, CircuitBreakerState } from './middleware/circuit-breaker.ts';
import type { HandlerContext } from './middleware/handler-context.ts';
import type { Middleware } from './middleware/middleware.ts';
import type { RetryOptions } from './middleware/retry.ts';

/** Handles one event; a thrown error means the event was not handled. */
export type Handler<Data = unknown> = (
  event: CloudEvent<Data>,
  context: HandlerContext,
) => Promise<void> | void;

/** Handles a batch of events of one type; a thrown error fails the whole batch. */
export type BatchHandler<Data = unknown> = (
  events: CloudEvent<Data>[],
  context: HandlerContext,
) => Promise<void> | void;

/** Breaker settings a router or handler can set (the name, metrics and logger come from the router). */
export type BreakerSettings = Omit<CircuitBreakerOptions, 'name' | 'metrics' | 'logger' | 'onStateChange'>;

/** Per-handler settings that override the router's. */
export interface HandlerOptions {
  /** Name in metrics, logs and dead letters; default `<group>:<type>`. */
  name?: string;
  /** Milliseconds one attempt may take; default the router's. */
  timeoutMs?: number;
  /** This handler's breaker settings, or false for none; default the router's. */
  circuitBreaker?: BreakerSettings | false;
  /**
   * `key` (default): once an event fails past its immediate retries, the later events of its key wait behind
   * it, in order, on the delayed-retry topics (or in the DLQ); `none`: they are handled at once.
   */
  ordering?: 'key' | 'none';
}

/** How a batch handler's batches are formed. */
export interface BatchOptions extends HandlerOptions {
  /** Most events in one batch; default 100. */
  maxEvents?: number;
  /** Milliseconds the first event of a batch waits for more; default 50. */
  maxWaitMs?: number;
}

/** What a router reports about itself. */
export interface RouterHealth {
  /** `degraded` when a handler's breaker is open. */
  status: 'idle' | 'running' | 'paused' | 'degraded' | 'closing' | 'closed';
  group: string;
  assignment: readonly TopicPartition[];
  /** Events fetched and not yet handled or handed on. */
  inFlight: number;
  /** Events from delayed-retry topics fetched and waiting for their due time. */
  waitingForRetry: number;
  /** State of each handler's circuit breaker, by handler name. */
  breakers: Record<string, CircuitBreakerState>;
  /** The last failure that moved an event to a retry topic or the DLQ. */
  lastError?: { type: string; message: string; at: string };
}

/** What a router needs. */
export interface RouterOptions {
  transport: Transport;
  catalog: Catalog;
  /**
   * Who consumes: start() refuses (ForbiddenError) types or topics outside its scopes, and handlers see only
   * events of its tenants (others are passed over as handled). None: no check.
   */
  identity?: Identity;
  /** Consumer group id; it also names the group's retry and dead-letter topics. */
  group: string;
  /** Where a new group starts; default `earliest`. */
  startFrom?: StartFrom;
  /** Most events handled at once across partition keys; default 64. */
  concurrency?: number;
  metrics?: KeelMetrics;
  logger?: Logger;
  /** Group session timeout in milliseconds; default 10 000. */
  sessionTimeoutMs?: number;
  /** Milliseconds between offset commits of handled records; default 100. */
  commitIntervalMs?: number;
  /** Middleware of yours, run inside correlation, tracing and metrics and outside dedupe and retries. */
  middleware?: readonly Middleware[];
  /** Immediate retries (in place, backoff with jitter), or false for none; default 3 attempts from 100 ms. */
  retry?: RetryOptions | false;
  /** Delays of the delayed-retry topics, in milliseconds, tried in order before the DLQ; default 1 s, 10 s, 1 min. */
  delayedRetries?: readonly number[];
  /**
   * What the events parked behind an event do when it goes to the DLQ (routes with `ordering: 'key'`):
   * `park` (default) follows it into the DLQ, in order, until it is retried or discarded there;
   * `continue` handles them.
   */
  onDeadLetter?: 'park' | 'continue';
  /** Whether an error deserves a retry; default every error but bad input (validation, unknown type, upcast). */
  isRetryable?: (error: unknown) => boolean;
  /** Milliseconds one handler attempt may take; default no limit. */
  timeoutMs?: number;
  /** Circuit breaker settings for every handler, or false for none; default 5 failures, open 10 s. */
  circuitBreaker?: BreakerSettings | false;
  /** Inbox of processed event ids: redelivered events are skipped (idempotent consumer). */
  inbox?: Inbox;
  /** Check event data against the definition before handling; default true. */
  validate?: boolean;
  /** Run each handler in an OpenTelemetry CONSUMER span (see `middleware/tracing.ts`); default true. */
  tracing?: boolean;
  /** Milliseconds between updates of `keel_consumer_lag_messages`; default 5 000. */
  lagIntervalMs?: number;
  /** Signals that close the router gracefully (then exit, unless others listen); default SIGTERM and SIGINT, `[]` for none. */
  shutdownSignals?: readonly NodeJS.Signals[];
}

/** Consumes topics in a consumer group and dispatches events to handlers by type. */
export interface Router {
  /** Registers the handler of one event type (one handler per type). */
  on<Definition extends EventDefinition>(
    definition: Definition,
    handler: Handler<EventData<Definition>>,
    options?: HandlerOptions,
  ): Router;
  /** Registers a handler that takes events of one type in batches of up to `maxEvents` or `maxWaitMs`. */
  onBatch<Definition extends EventDefinition>(
    definition: Definition,
    handler: BatchHandler<EventData<Definition>>,
    options?: BatchOptions,
  ): Router;
  /** Stops fetching new events (in-flight ones finish); the group keeps its partitions. */
  pause(): void;
  /** Fetches again after `pause`. */
  resume(): void;
  /** State, assignment, in-flight work, breakers and the last failure. */
  health(): RouterHealth;
  /** Joins the group and starts consuming the topics of the registered types. */
  start(): Promise<void>;
  /** Stops fetching, finishes in-flight handlers (up to `deadlineMs`, default 30 000), commits and leaves the group. */
  close(deadlineMs?: number): Promise<void>;
}
