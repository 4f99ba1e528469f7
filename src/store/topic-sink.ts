import { partitionForKey } from '../bus/partitioner.ts';
import type { AnyPublishReceipt, Publisher } from '../bus/types.ts';
import type { Catalog } from '../events/catalog.ts';
import type { CloudEvent } from '../events/cloud-event.ts';
import { toRecord } from '../events/kafka-binding.ts';
import { UnknownTopicError } from '../transport/errors.ts';
import type { OutgoingRecord, PartitionWrite, Transport } from '../transport/transport.ts';

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
export class NoTopicError extends Error {
  readonly code = 'KEEL_STORE_NO_TOPIC';
  readonly eventType: string;

  constructor(eventType: string) {
    super(`no topic for an event of type "${eventType}": pass a topic, or a catalog that routes the type`);
    this.name = 'NoTopicError';
    this.eventType = eventType;
  }
}

/**
 * A sink writing CloudEvents (Kafka binding, binary mode) straight to the transport: records are
 * grouped per partition, keeping their order, and appended in one call.
 */
export function createTopicSink(options: TopicSinkOptions): EventSink {
  const { transport, catalog, partitionBy } = options;
  const partitions = new Map<string, number>();
  const partitionCount = async (topic: string): Promise<number> => {
    let count = partitions.get(topic);
    if (count === undefined) {
      const described = await transport.describeTopic(topic);
      if (described === undefined) throw new UnknownTopicError(topic);
      count = described.partitions;
      partitions.set(topic, count);
    }
    return count;
  };
  const topicOf = (item: SinkItem): string => {
    const chosen =
      item.topic ??
      (typeof options.topic === 'function' ? options.topic(item.event, item.streamId) : options.topic) ??
      catalog?.route(item.event.type).topic.name;
    if (chosen === undefined) throw new NoTopicError(item.event.type);
    return chosen;
  };
  return async (items) => {
    const writes = new Map<string, PartitionWrite & { records: OutgoingRecord[] }>();
    for (const item of items) {
      const topic = topicOf(item);
      const key = partitionBy === 'stream' ? item.streamId : String(item.event.partitionkey ?? item.streamId);
      const partition = partitionForKey(key, await partitionCount(topic));
      // The store validated the event when it was appended.
      const record: OutgoingRecord = { ...toRecord(item.event, { validated: true }), key };
      const id = `${topic}\u0000${partition}`;
      let write = writes.get(id);
      if (write === undefined) {
        write = { topic, partition, records: [] };
        writes.set(id, write);
      }
      write.records.push(record);
    }
    if (writes.size > 0) await transport.append([...writes.values()]);
  };
}

/**
 * A sink publishing through a Publisher's `publishEvents`: each event is validated against the
 * publisher's catalog and routed to its type's topic, keyed by its `partitionkey`.
 */
export function createPublisherSink(publisher: Publisher<AnyPublishReceipt>): EventSink {
  return async (items) => {
    if (items.length > 0) await publisher.publishEvents(items.map((item) => item.event));
  };
}
