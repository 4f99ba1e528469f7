import type { Logger } from 'pino';
import type { Catalog } from '../events/catalog.ts';
import type { CloudEvent } from '../events/cloud-event.ts';
import type { EventData, EventDefinition } from '../events/define-event.ts';
import type { KeelMetrics } from '../observability/metrics.ts';
import type { StartFrom, TopicPartition, Transport } from '../transport/transport.ts';
import type { Inbox } from './inbox/inbox.ts';
import type { CircuitBreakerOptions, CircuitBreakerState } from './middleware/circuit-breaker.ts';
import type { HandlerContext } from './middleware/handler-context.ts';
import type { Middleware } from './middleware/middleware.ts';
import type { RetryOptions } from './middleware/retry.ts';
import type { LingerOptions } from './publishing/linger-batcher.ts';
import type { LocalBufferOptions } from './publishing/local-buffer.ts';
import type { PublishBreakerOptions, PublishRetryOptions } from './publishing/publish-policy.ts';
import type { RequestOptions, TypedRequestOptions } from './publishing/request-reply.ts';
import type { PublishTransaction, TransactionResult } from './publishing/transaction.ts';

export type { HandlerContext } from './middleware/handler-context.ts';
export type { Middleware } from './middleware/middleware.ts';

/** Envelope fields a caller may set when publishing; the rest Keel fills in. */
export interface PublishOptions {
  tenantId?: string;
  correlationId?: string;
  causationId?: string;
  /** Subject; defaults to the partition key. */
  subject?: string;
  /** Overrides the key the definition picks from the data. */
  partitionKey?: string;
  /** Event id; defaults to a new UUIDv7 (pass one to make a retried publish idempotent downstream). */
  id?: string;
  /** RFC 3339 time; defaults to now. */
  time?: string;
  traceparent?: string;
  /** Overrides the publisher's source. */
  source?: string;
}

/** Where a published event was stored. */
export interface PublishReceipt {
  id: string;
  type: string;
  topic: string;
  partition: number;
  offset: bigint;
  /** Absent (or false): the event is on the transport at `offset`. */
  buffered?: false;
}

/**
 * A publish kept in the publisher's local durable buffer while the transport was unreachable: it is
 * on disk, and will be appended (in order, at `topic`/`partition`) once the transport answers again.
 */
export interface BufferedReceipt {
  id: string;
  type: string;
  topic: string;
  partition: number;
  buffered: true;
}

/** What a publish resolves with on a publisher that has a local buffer. */
export type AnyPublishReceipt = PublishReceipt | BufferedReceipt;

/** Envelope options of `publisher.publishTo`: those of a publish, plus extension attributes. */
export interface PublishToOptions extends PublishOptions {
  /** CloudEvents extension attributes to add (lower-case letters and digits; not Keel's own or core names). */
  extensions?: Readonly<Record<string, string>>;
}

/**
 * Validates, enriches and appends events to the transport. Events published inside a handler inherit
 * its event's correlation id, causation (its id) and tenant unless the options set them. `Receipt` is
 * PublishReceipt, or AnyPublishReceipt for a publisher with a local buffer.
 */
export interface Publisher<Receipt extends AnyPublishReceipt = PublishReceipt> {
  /** Publishes one typed event and resolves once it is durable (on the transport, or in the local buffer). */
  publish<Definition extends EventDefinition>(
    definition: Definition,
    data: EventData<Definition>,
    options?: PublishOptions,
  ): Promise<Receipt>;
  /**
   * Publishes many typed events of one type at once, all or nothing, sharing the envelope options
   * (an `id` option is refused: each event gets its own).
   */
  publishMany<Definition extends EventDefinition>(
    definition: Definition,
    data: readonly EventData<Definition>[],
    options?: Omit<PublishOptions, 'id'>,
  ): Promise<Receipt[]>;
  /**
   * Publishes already-formed CloudEvents (HTTP ingestion, replays): each is checked against the
   * catalog, then all are appended at once; if any is invalid nothing is written. The events are
   * taken as they are: no envelope field is inherited from a handled event.
   */
  publishEvents(events: readonly CloudEvent[]): Promise<Receipt[]>;
  /**
   * Fire-and-forget: validates at once (invalid input throws here, never dropped silently) and
   * publishes in the background. A failed append goes to the local buffer, or else to `onError`
   * and `keel_event_publish_errors_total`; it never becomes an unhandled rejection.
   */
  emit<Definition extends EventDefinition>(
    definition: Definition,
    data: EventData<Definition>,
    options?: PublishOptions,
  ): void;
  /**
   * Publishes one typed event to a named topic instead of the catalog's (reply topics, retry topics):
   * partitioned by its key over that topic's partitions. The topic must exist.
   */
  publishTo<Definition extends EventDefinition>(
    topic: string,
    definition: Definition,
    data: EventData<Definition>,
    options?: PublishToOptions,
  ): Promise<Receipt>;
  /**
   * Publishes a request (extension `replyto` = the reply topic) and resolves with the reply: the
   * event on the reply topic whose `inreplyto` is the request's id. An error reply rejects with
   * RemoteError, silence with RequestTimeoutError. With `reply`, the reply is checked against it.
   */
  request<Definition extends EventDefinition, Reply extends EventDefinition>(
    definition: Definition,
    data: EventData<Definition>,
    options: TypedRequestOptions<Reply>,
  ): Promise<CloudEvent<EventData<Reply>>>;
  request<Definition extends EventDefinition>(
    definition: Definition,
    data: EventData<Definition>,
    options?: RequestOptions,
  ): Promise<CloudEvent>;
  /**
   * Runs `work`, then appends everything it staged with `tx.publish` in one all-or-nothing append
   * across topics (a Kafka transaction on Kafka); nothing is written if `work` throws. While the transport
   * is away the staged events are buffered as one group and appended all-or-nothing when it is back.
   */
  transaction<Value>(
    work: (tx: PublishTransaction) => Promise<Value> | Value,
  ): Promise<TransactionResult<Value, Receipt>>;
  /**
   * Refuses new publishes, waits for those in flight, flushes the local buffer until the deadline
   * (milliseconds, default 10 000; what is left stays on disk) and closes the reply listeners.
   * The transport is not closed: it was passed in.
   */
  close(deadlineMs?: number): Promise<void>;
  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** What a publisher needs. */
export interface PublisherOptions {
  transport: Transport;
  catalog: Catalog;
  /** CloudEvents `source` of events this publisher creates, e.g. `urn:keel:service:admissions`. */
  source: string;
  metrics?: KeelMetrics;
  logger?: Logger;
  /** Largest encoded event accepted, in bytes; default 1 MiB. */
  maxEventBytes?: number;
  /** Name of this publisher in metrics (`name` label) and logs; default `publisher`. */
  name?: string;
  /** Retries of an append that failed for a transport or IO reason; default 3 attempts, 100 ms to 2 s apart. */
  retry?: PublishRetryOptions;
  /** Circuit breaker around the transport's append; default opens after 5 failures, tries again after 1 s. */
  breaker?: PublishBreakerOptions;
  /** Which append failures are worth retrying; default `isRetryablePublishError` (transport and IO errors). */
  isRetryable?: (error: unknown) => boolean;
  /** Local durable buffer for when the transport stays unreachable; without one such publishes fail. */
  buffer?: LocalBufferOptions;
  /** Coalesces concurrent publishes into shared appends; default off (the embedded transport group-commits already). */
  linger?: LingerOptions;
  /** Called when an `emit` fails after it returned (append failed with no buffer, buffer full); default logs the error. */
  onError?: (error: unknown, event: CloudEvent) => void;
}

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
