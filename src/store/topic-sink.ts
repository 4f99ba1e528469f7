import { KeelError } from '../errors/keel-error.ts';
import type { Catalog } from '../events/catalog.ts';
import type { CloudEvent } from '../events/cloud-event.ts';
import { appendKeyedEvents, createTopicPartitions, type KeyedEvent } from '../transport/append-events.ts';
import type { Transport } from '../transport/transport.ts';

/** An event to send on, with the stream it came from and (when chosen at append time) its topic. */
export interface SinkItem {
  event: CloudEvent;
  streamId: string;
  topic?: string | undefined;
}

/** Sends events on, in the order given; resolves once they are durable on the bus. */
export type EventSink = (items: readonly SinkItem[]) => Promise<void>;

/** Which record key (hence partition) an event gets. */
export type PartitionBy = 'stream' | 'partitionkey';

/** How events reach a topic of the transport directly. */
export interface TopicSinkOptions {
  transport: Transport;
  /**
   * The topic: fixed, or chosen per event; when neither gives one, the catalog's topic for the type.
   * An item's own topic (chosen at append time) wins over all of them.
   */
  topic?: string | ((event: CloudEvent, streamId: string) => string | undefined);
  catalog?: Catalog;
  /**
   * `stream` keys every record by its stream id, so a stream's events share a partition and keep their
   * order; `partitionkey` uses the event's `partitionkey` (its stream id when it has none).
   */
  partitionBy: PartitionBy;
}

/** An event that no option gives a topic; nothing of its batch was sent. */
export class NoTopicError extends KeelError {
  readonly code = 'KEEL_STORE_NO_TOPIC';
  readonly eventType: string;

  constructor(eventType: string) {
    super(`no topic for an event of type "${eventType}": pass a topic, or a catalog that routes the type`);
    this.eventType = eventType;
  }
}

/**
 * A sink writing CloudEvents (Kafka binding, binary mode) straight to the transport: records are
 * grouped per partition, keeping their order, and appended in one call.
 */
export function createTopicSink(options: TopicSinkOptions): EventSink {
  const { transport, catalog, partitionBy } = options;
  const partitions = createTopicPartitions(transport);
  const topicOf = (item: SinkItem): string => {
    const chosen =
      item.topic ??
      (typeof options.topic === 'function' ? options.topic(item.event, item.streamId) : options.topic) ??
      catalog?.route(item.event.type).topic.name;
    if (chosen === undefined) throw new NoTopicError(item.event.type);
    return chosen;
  };
  // The store validated each event when it was appended.
  const keyed = (item: SinkItem): KeyedEvent => ({
    event: item.event,
    topic: topicOf(item),
    key: partitionBy === 'stream' ? item.streamId : String(item.event.partitionkey ?? item.streamId),
  });
  return async (items) => {
    await appendKeyedEvents(transport, items.map(keyed), partitions);
  };
}

/**
 * What the store needs of a Publisher to send events through it (any Keel Publisher fits): validation
 * against its catalog, its retries, its local buffer.
 */
export interface EventPublisher {
  /** Publishes already-formed CloudEvents, all or nothing; resolves once they are durable. */
  publishEvents(events: readonly CloudEvent[]): Promise<unknown>;
}

/**
 * A sink publishing through a Publisher's `publishEvents`: each event is validated against the
 * publisher's catalog and routed to its type's topic, keyed by its `partitionkey`.
 */
export function createPublisherSink(publisher: EventPublisher): EventSink {
  return async (items) => {
    if (items.length > 0) await publisher.publishEvents(items.map((item) => item.event));
  };
}
