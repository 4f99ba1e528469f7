import type { Catalog } from '../../events/catalog.ts';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { toRecord } from '../../events/kafka-binding.ts';
import { createTopicPartitions } from '../../transport/append-events.ts';
import { partitionForKey } from '../../transport/partitioner.ts';
import type { Transport } from '../../transport/transport.ts';
import { EventTooLargeError } from '../errors.ts';
import { encodedSize, type PlacedEvent } from './placed-event.ts';

/** Where an event goes: the catalog's topic for its type, or a named one. */
export interface Destination {
  topic: string;
  partitions: number;
}

/** What the placer needs. */
export interface EventPlacerOptions {
  transport: Transport;
  catalog: Catalog;
  /** Largest encoded event accepted, in bytes. */
  maxEventBytes: number;
  /**
   * Placing only picks the partition; the encoding (and the size check) waits for `replaced`, which the
   * publisher calls with every event its sealer rewrote, so an event is encoded once. Default false.
   */
  encodeLater?: boolean;
}

// The record of an event placed with `encodeLater`, until `replaced` encodes it.
const NOT_YET_ENCODED: PlacedEvent['record'] = Object.freeze({ key: null, value: null, headers: {} });

/** Chooses each event's topic and partition and encodes it, refusing events over the size limit. */
export interface EventPlacer {
  /**
   * Puts a checked event on its destination: the partition its `partitionkey` picks (Kafka's partitioner),
   * or, keyless, the next one in rotation on that topic; encodes it and checks its size.
   */
  place(event: CloudEvent, destination: Destination): PlacedEvent;
  /** The same placement for a rewritten event (sealed fields): encoded again and its size checked again. */
  replaced(placed: PlacedEvent, event: CloudEvent): PlacedEvent;
  /** The catalog's topic for an event type. */
  routed(type: string): Destination;
  /** A named topic, its partition count asked of the transport once (UnknownTopicError when missing). */
  named(topic: string): Promise<Destination>;
}

/** Creates the placer of one publisher. */
export function createEventPlacer(options: EventPlacerOptions): EventPlacer {
  const { catalog, maxEventBytes } = options;
  const partitionsOf = createTopicPartitions(options.transport);
  // Keyless events rotate over partitions, per topic, as Kafka's round-robin partitioner does.
  const nextKeyless = new Map<string, number>();

  const encoded = (event: CloudEvent, topic: string, partition: number): PlacedEvent => {
    // Every event reaching here was checked by createEvent, validateEventData or a binding's decoder.
    const record = toRecord(event, { validated: true });
    const size = encodedSize(record);
    if (size > maxEventBytes) throw new EventTooLargeError(event.id, event.type, size, maxEventBytes);
    return { event, topic, partition, record, size };
  };

  return {
    place: (event, destination) => {
      const { topic, partitions } = destination;
      const key = event.partitionkey;
      let partition: number;
      if (key !== undefined) {
        partition = partitionForKey(key, partitions);
      } else {
        partition = nextKeyless.get(topic) ?? 0;
        nextKeyless.set(topic, (partition + 1) % partitions);
      }
      if (options.encodeLater === true) return { event, topic, partition, record: NOT_YET_ENCODED, size: 0 };
      return encoded(event, topic, partition);
    },

    replaced: (placed, event) => encoded(event, placed.topic, placed.partition),

    routed: (type) => {
      const { topic } = catalog.route(type);
      return { topic: topic.name, partitions: topic.partitions };
    },

    named: async (topic) => ({ topic, partitions: await partitionsOf(topic) }),
  };
}
