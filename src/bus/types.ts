import type { Logger } from 'pino';
import type { Catalog } from '../events/catalog.ts';
import type { CloudEvent } from '../events/cloud-event.ts';
import type { EventData, EventDefinition } from '../events/define-event.ts';
import type { KeelMetrics } from '../observability/metrics.ts';
import type { StartFrom, Transport } from '../transport/transport.ts';

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
}

/** Validates, enriches and appends events to the transport. */
export interface Publisher {
  /** Publishes one typed event and resolves once it is durable. */
  publish<Definition extends EventDefinition>(
    definition: Definition,
    data: EventData<Definition>,
    options?: PublishOptions,
  ): Promise<PublishReceipt>;
  /**
   * Publishes many typed events of one type at once, all or nothing, sharing the envelope options
   * (an `id` option is refused: each event gets its own).
   */
  publishMany<Definition extends EventDefinition>(
    definition: Definition,
    data: readonly EventData<Definition>[],
    options?: Omit<PublishOptions, 'id'>,
  ): Promise<PublishReceipt[]>;
  /**
   * Publishes already-formed CloudEvents (HTTP ingestion, replays): each is checked against the
   * catalog, then all are appended at once; if any is invalid nothing is written.
   */
  publishEvents(events: readonly CloudEvent[]): Promise<PublishReceipt[]>;
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
}

/** What a handler is given beside the event. */
export interface HandlerContext {
  topic: string;
  partition: number;
  offset: bigint;
  group: string;
  /** Aborted when the router shuts down past its deadline. */
  signal: AbortSignal;
}

/** Handles one event; a thrown error means the event was not handled. */
export type Handler<Data = unknown> = (
  event: CloudEvent<Data>,
  context: HandlerContext,
) => Promise<void> | void;

/** What a router needs. */
export interface RouterOptions {
  transport: Transport;
  catalog: Catalog;
  /** Consumer group id. */
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
  /** Signals that close the router gracefully (then exit, unless others listen); default SIGTERM and SIGINT, `[]` for none. */
  shutdownSignals?: readonly NodeJS.Signals[];
}

/** Consumes topics in a consumer group and dispatches events to handlers by type. */
export interface Router {
  /** Registers the handler of one event type (one handler per type). */
  on<Definition extends EventDefinition>(
    definition: Definition,
    handler: Handler<EventData<Definition>>,
  ): Router;
  /** Joins the group and starts consuming the topics of the registered types. */
  start(): Promise<void>;
  /** Stops fetching, finishes in-flight handlers (up to `deadlineMs`, default 30 000), commits and leaves the group. */
  close(deadlineMs?: number): Promise<void>;
}
