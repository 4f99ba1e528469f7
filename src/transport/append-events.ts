// The one home of "encode, pick a partition, append": the Publisher, the Router's own appends (retry and
// dead-letter topics) and the store's relay and replay all put records on the transport through these.
import type { CloudEvent } from '../events/cloud-event.ts';
import { toRecord } from '../events/kafka-binding.ts';
import { UnknownTopicError } from './errors.ts';
import { partitionForKey } from './partitioner.ts';
import type { OutgoingRecord, PartitionWrite, Transport } from './transport.ts';

/** Where one record goes: a topic, one of its partitions, and the record itself. */
export interface Placement {
  topic: string;
  partition: number;
  record: OutgoingRecord;
}

/** An event to append by key: encoded by the Kafka binding, on the partition of `topic` its key picks. */
export interface KeyedEvent {
  /** An event already checked (by `createEvent`, `validateEventData`, `parseCloudEvent` or a store append). */
  event: CloudEvent;
  topic: string;
  /** Record key (and so partition); replaces the `partitionkey` the binding would use. */
  key: string;
}

/** Partition count of a topic, asked of the transport once per topic; throws UnknownTopicError for a missing one. */
export type TopicPartitions = (topic: string) => Promise<number>;

/** Creates a cache of topics' partition counts over `transport.describeTopic`. */
export function createTopicPartitions(transport: Transport): TopicPartitions {
  const counts = new Map<string, number>();
  return async (topic) => {
    let count = counts.get(topic);
    if (count === undefined) {
      const described = await transport.describeTopic(topic);
      if (described === undefined) throw new UnknownTopicError(topic);
      count = described.partitions;
      counts.set(topic, count);
    }
    return count;
  };
}

/** Places a record on the partition its key picks among `partitions` (Kafka's partitioner); a keyless one on 0. */
export function placeByKey(topic: string, partitions: number, record: OutgoingRecord): Placement {
  return { topic, partition: record.key === null ? 0 : partitionForKey(record.key, partitions), record };
}

/**
 * Appends records in one `transport.append` (one write per partition, records in their given order within
 * it), or in one `transport.appendAtomically` when `atomic`, and resolves with each record's offset, in the
 * order given.
 */
export async function appendPlacements(
  transport: Transport,
  placements: readonly Placement[],
  atomic = false,
): Promise<bigint[]> {
  const writes = new Map<string, PartitionWrite & { records: OutgoingRecord[]; members: number[] }>();
  placements.forEach((item, index) => {
    const id = `${item.topic}\u0000${item.partition}`;
    let write = writes.get(id);
    if (!write) {
      write = { topic: item.topic, partition: item.partition, records: [], members: [] };
      writes.set(id, write);
    }
    write.records.push(item.record);
    write.members.push(index);
  });
  const ordered = [...writes.values()];
  const offsets = atomic ? await transport.appendAtomically(ordered) : await transport.append(ordered);
  const result = new Array<bigint>(placements.length);
  ordered.forEach((write, w) => {
    write.members.forEach((index, r) => {
      result[index] = offsets[w]![r]!;
    });
  });
  return result;
}

/**
 * Encodes checked events (CloudEvents Kafka binding, binary mode) keyed by their `key`, puts each on the
 * partition of its topic that key picks (`partitions` tells the counts) and appends them all in one call,
 * keeping their order per partition; resolves with each event's offset, in the order given.
 */
export async function appendKeyedEvents(
  transport: Transport,
  items: readonly KeyedEvent[],
  partitions: TopicPartitions,
): Promise<bigint[]> {
  const placements: Placement[] = [];
  for (const { event, topic, key } of items) {
    const record: OutgoingRecord = { ...toRecord(event, { validated: true }), key };
    placements.push({ topic, partition: partitionForKey(key, await partitions(topic)), record });
  }
  return placements.length === 0 ? [] : appendPlacements(transport, placements);
}
