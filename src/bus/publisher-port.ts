// The Publisher port: what publishing offers (publish, emit, request, transactions) and what it gives
// back (receipts). The publisher itself is `publisher.ts`; its pieces are in `publishing/`.
import type { Logger } from 'pino';
import type { Catalog } from '../events/catalog.ts';
import type { CloudEvent } from '../events/cloud-event.ts';
import type { EventData, EventDefinition } from '../events/define-event.ts';
import type { KeelMetrics } from '../observability/metrics.ts';
import type { Identity } from '../security/identity/identity.ts';
import type { Transport } from '../transport/transport.ts';
import type { LingerOptions } from './publishing/linger-batcher.ts';
import type { LocalBufferOptions } from './publishing/local-buffer.ts';
import type { PublishBreakerOptions, PublishRetryOptions } from './publishing/publish-policy.ts';

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

declare const envelopeChecked: unique symbol;

/**
 * A CloudEvent whose envelope a protocol binding has already checked (`decodeHttp` does): the publisher
 * checks only its data against the catalog. A type-level mark; the event itself is unchanged.
 */
export type DecodedCloudEvent = CloudEvent & { readonly [envelopeChecked]: true };

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
   * Same as `publishEvents` for events a binding decoded (their envelopes checked there): only their data
   * is checked against the catalog, so an HTTP request is parsed and checked once.
   */
  publishDecoded(events: readonly DecodedCloudEvent[]): Promise<Receipt[]>;
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

/** Options of `publisher.request`: the request's envelope, plus where and how long to wait. */
export interface RequestOptions extends PublishOptions {
  /** Milliseconds to wait for the reply (joining the reply topic included); default 30 000. */
  timeoutMs?: number;
  /** Topic the reply goes to, created with 12 partitions when missing; default `keel.replies`. */
  replyTopic?: string;
}

/** Request options that also check the reply: its type must be `reply`'s (or an error reply) and its data valid. */
export interface TypedRequestOptions<Reply extends EventDefinition> extends RequestOptions {
  reply: Reply;
}

/** An event staged in a transaction: where it will be appended if the transaction commits. */
export interface StagedEvent {
  id: string;
  type: string;
  topic: string;
  partition: number;
}

/**
 * Stages events for one all-or-nothing append. Staging is synchronous: invalid data throws at the
 * call, and `await tx.publish(...)` and a bare `tx.publish(...)` behave alike.
 */
export interface PublishTransaction {
  /** Validates and stages one typed event (routed by the catalog, like `publisher.publish`). */
  publish<Definition extends EventDefinition>(
    definition: Definition,
    data: EventData<Definition>,
    options?: PublishOptions,
  ): StagedEvent;
  /** Validates and stages many typed events of one type; if any is invalid, none of them is staged. */
  publishMany<Definition extends EventDefinition>(
    definition: Definition,
    data: readonly EventData<Definition>[],
    options?: Omit<PublishOptions, 'id'>,
  ): StagedEvent[];
}

/** What a committed transaction gives back: the callback's value and one receipt per staged event, in order. */
export interface TransactionResult<Value, Receipt> {
  value: Value;
  receipts: Receipt[];
}

/** What a publisher needs. */
export interface PublisherOptions {
  transport: Transport;
  catalog: Catalog;
  /**
   * Who publishes: every publish is checked against its roles and scopes (type, tenant, topic) and refused
   * with ForbiddenError before it reaches the transport. None: no check (the service's own publisher).
   */
  identity?: Identity;
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
  /**
   * Rewrites events after they are checked and before they are encoded for the transport (or the local
   * buffer), e.g. field encryption (`createFieldEncryption(...).seal`); a rejection fails the publish and
   * nothing is appended. Default none.
   */
  sealer?: EventSealer;
  /**
   * Rewrites each event's data into its wire encoding after the sealer and before the size check, e.g. Avro
   * in Confluent's wire format (`createAvroEncoder` of the registry); a rejection fails the publish and
   * nothing is appended. Default none: data is JSON.
   */
  encoder?: EventSealer;
}

/** Rewrites checked events just before they leave a publisher; answers one event per event, in order. */
export type EventSealer = (events: readonly CloudEvent[]) => Promise<CloudEvent[]>;
