import type { Catalog } from '../../events/catalog.ts';
import { browsePartition } from '../../transport/browse-partition.ts';
import type { GroupAdmin } from '../../transport/group-admin.ts';
import type { StoredRecord, Transport } from '../../transport/transport.ts';
import { attributeOf, decodeRecord } from '../topics/message-filter.ts';

/** A producer seen for a type: the CloudEvents `source`, how often and when last. */
export interface ProducerSeen {
  source: string;
  /** Records of the type from it among those looked at. */
  count: number;
  /** Append time of the newest, ms since the epoch. */
  lastSeen: number;
}

/** Who produces and consumes each type, from the newest records of the catalog's topics. */
export interface TypeUsage {
  /** Producers by type, most records first. */
  producers: Map<string, ProducerSeen[]>;
  /** Consumer groups on each topic (subscribed, or with committed offsets there). */
  groupsByTopic: Map<string, string[]>;
  /** Records looked at, in all. */
  scanned: number;
}

/**
 * Reads up to `maxScan` of the newest records of each catalog topic (partitions split it evenly) and
 * counts the `source` of each type; the consumer groups of a type are those on its topic.
 */
export async function typeUsage(
  transport: Transport,
  groupAdmin: GroupAdmin | undefined,
  catalog: Catalog,
  maxScan: number,
): Promise<TypeUsage> {
  const seen = new Map<string, Map<string, ProducerSeen>>();
  let scanned = 0;
  const note = (record: StoredRecord) => {
    let decoded: ReturnType<typeof decodeRecord> | null = null;
    const decode = () => {
      if (decoded === null) decoded = decodeRecord(record);
      return decoded;
    };
    const type = attributeOf(record, 'type', decode);
    const source = attributeOf(record, 'source', decode);
    if (typeof type !== 'string' || typeof source !== 'string') return false;
    const bySource = seen.get(type) ?? new Map<string, ProducerSeen>();
    seen.set(type, bySource);
    const producer = bySource.get(source) ?? { source, count: 0, lastSeen: record.timestamp };
    producer.count += 1;
    producer.lastSeen = Math.max(producer.lastSeen, record.timestamp);
    bySource.set(source, producer);
    return false;
  };
  for (const topic of catalog.topics) {
    if ((await transport.describeTopic(topic.name)) === undefined) continue;
    const partitions = await transport.offsets(topic.name);
    const share = Math.max(1, Math.floor(maxScan / Math.max(1, partitions.length)));
    for (const { partition } of partitions) {
      const page = await browsePartition(transport, {
        topic: topic.name,
        partition,
        order: 'newest',
        limit: 1,
        match: note,
        maxScan: share,
      });
      scanned += page.scanned;
    }
  }
  const producers = new Map<string, ProducerSeen[]>();
  for (const [type, bySource] of seen)
    producers.set(
      type,
      [...bySource.values()].sort((a, b) => b.count - a.count || a.source.localeCompare(b.source)),
    );
  const groupsByTopic = new Map<string, string[]>();
  if (groupAdmin !== undefined) {
    for (const [group, topics] of await groupAdmin.topicsByGroup()) {
      for (const topic of topics)
        groupsByTopic.set(topic, [...(groupsByTopic.get(topic) ?? []), group].sort());
    }
  }
  return { producers, groupsByTopic, scanned };
}
