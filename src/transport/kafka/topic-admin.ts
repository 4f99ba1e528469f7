import { type Admin, ConfigResourceTypes, IncrementalAlterConfigOperationTypes } from '@platformatic/kafka';
import type { TopicCompression, TopicConfig } from '../transport.ts';
import { hasKafkaError, isUnknownTopic, operationError } from './client-errors.ts';

/** A topic as the cluster has it: its layout and the cleanup settings Keel manages. */
export interface DescribedTopic extends TopicConfig {
  /** Copies of each partition (of partition 0; Keel never gives partitions of one topic different counts). */
  replication: number;
  /** Effective `min.insync.replicas` (the topic's own, else the brokers' default). */
  minInsyncReplicas: number;
  /** The topic's configuration values Keel manages, as the brokers report them (`retention.ms`...). */
  configs: Readonly<Record<ManagedConfig, string>>;
}

/** Topic configuration keys Keel sets from a TopicConfig. */
export const MANAGED_CONFIGS = [
  'retention.ms',
  'retention.bytes',
  'cleanup.policy',
  'min.insync.replicas',
  'compression.type',
] as const;

/** One of MANAGED_CONFIGS. */
export type ManagedConfig = (typeof MANAGED_CONFIGS)[number];

/**
 * The Kafka topic configuration a TopicConfig means. No retention means keep forever (the port's meaning),
 * so it is written as -1 rather than left to the brokers' default (7 days on a stock broker); compaction
 * with a retention keeps both (`compact,delete`); `min.insync.replicas` and `compression.type` only when the
 * topic sets them.
 */
export function topicConfigs(topic: TopicConfig): Partial<Record<ManagedConfig, string>> {
  const configs: Partial<Record<ManagedConfig, string>> = {
    'retention.ms': String(topic.retentionMs ?? -1),
    'retention.bytes': String(topic.retentionBytes ?? -1),
    'cleanup.policy': topic.compacted
      ? topic.retentionMs !== undefined || topic.retentionBytes !== undefined
        ? 'compact,delete'
        : 'compact'
      : 'delete',
  };
  if (topic.minInsyncReplicas !== undefined) configs['min.insync.replicas'] = String(topic.minInsyncReplicas);
  // Only when the topic names a codec: without one it keeps what it has (Kafka's default keeps each producer's).
  if (topic.compression !== undefined)
    configs['compression.type'] = topic.compression === 'none' ? 'uncompressed' : topic.compression;
  return configs;
}

/** The codec a `compression.type` value names, or undefined for `producer` (each producer's own). */
function compressionOf(value: string | undefined): TopicCompression | undefined {
  if (value === undefined || value === 'producer') return undefined;
  return value === 'uncompressed' ? 'none' : (value as TopicCompression);
}

/** `cleanup.policy` values compared as sets: `delete,compact` equals `compact,delete`. */
export function sameConfig(name: ManagedConfig, a: string, b: string): boolean {
  if (name !== 'cleanup.policy') return a === b;
  const norm = (v: string) =>
    v
      .split(',')
      .map((s) => s.trim())
      .sort()
      .join(',');
  return norm(a) === norm(b);
}

/** The topic as the cluster has it, or undefined when it does not exist. */
export async function describeTopic(admin: Admin, name: string): Promise<DescribedTopic | undefined> {
  let partitions: { replicas: number[] }[] | undefined;
  for (let attempt = 0; partitions === undefined; attempt++) {
    try {
      // No client retries: they would retry "unknown topic" too, which is an answer, not a failure.
      const metadata = await admin.metadata({ topics: [name], forceUpdate: true, retries: 0 });
      const topic = metadata.topics.get(name);
      if (topic === undefined) return undefined;
      partitions = topic.partitions;
    } catch (error) {
      if (isUnknownTopic(error)) return undefined;
      if (attempt >= 4) throw operationError('describe topic', error);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  let described: { name: string; value?: string | null | undefined }[];
  try {
    const [resource] = await admin.describeConfigs({
      resources: [
        {
          resourceType: ConfigResourceTypes.TOPIC,
          resourceName: name,
          configurationKeys: [...MANAGED_CONFIGS],
        },
      ],
    });
    described = resource?.configs ?? [];
  } catch (error) {
    if (isUnknownTopic(error)) return undefined;
    throw operationError('describe topic configs', error);
  }
  const configs = Object.fromEntries(MANAGED_CONFIGS.map((key) => [key, ''])) as Record<
    ManagedConfig,
    string
  >;
  for (const { name: key, value } of described) {
    if ((MANAGED_CONFIGS as readonly string[]).includes(key)) configs[key as ManagedConfig] = value ?? '';
  }
  const limit = (value: string): number | undefined => {
    const n = Number(value);
    return value === '' || !Number.isFinite(n) || n < 0 ? undefined : n;
  };
  const topic: DescribedTopic = {
    name,
    partitions: partitions.length,
    replication: partitions[0]?.replicas.length ?? 0,
    compacted: configs['cleanup.policy'].split(',').some((p) => p.trim() === 'compact'),
    minInsyncReplicas: Number(configs['min.insync.replicas']),
    configs,
  };
  const retentionMs = limit(configs['retention.ms']);
  const retentionBytes = limit(configs['retention.bytes']);
  if (retentionMs !== undefined) topic.retentionMs = retentionMs;
  if (retentionBytes !== undefined) topic.retentionBytes = retentionBytes;
  const compression = compressionOf(configs['compression.type']);
  if (compression !== undefined) topic.compression = compression;
  return topic;
}

/** Creates the topic with its configuration; false when it already existed (then it is left as it is). */
export async function createTopic(admin: Admin, topic: TopicConfig): Promise<boolean> {
  try {
    await admin.createTopics({
      topics: [{ topic: topic.name, partitions: topic.partitions, replicas: topic.replication ?? -1 }],
      configs: Object.entries(topicConfigs(topic)).map(([name, value]) => ({ name, value })),
    });
    return true;
  } catch (error) {
    if (hasKafkaError(error, 'TOPIC_ALREADY_EXISTS')) return false;
    throw operationError(`create topic ${topic.name}`, error);
  }
}

/** Sets configuration values of a topic (others stay as they are). */
export async function alterTopicConfigs(
  admin: Admin,
  name: string,
  configs: Partial<Record<ManagedConfig, string>>,
): Promise<void> {
  try {
    await admin.incrementalAlterConfigs({
      resources: [
        {
          resourceType: ConfigResourceTypes.TOPIC,
          resourceName: name,
          configs: Object.entries(configs).map(([key, value]) => ({
            name: key,
            configOperation: IncrementalAlterConfigOperationTypes.SET,
            value,
          })),
        },
      ],
    });
  } catch (error) {
    throw operationError(`alter configs of ${name}`, error);
  }
}

/** Raises a topic's partition count (Kafka cannot lower it); a no-op when it already has that many. */
export async function raisePartitions(admin: Admin, name: string, count: number): Promise<void> {
  try {
    await admin.createPartitions({ topics: [{ name, count, assignments: null }] });
  } catch (error) {
    // Another apply got there first: the topic already has the partitions asked for.
    if (hasKafkaError(error, 'INVALID_PARTITIONS')) {
      const current = await describeTopic(admin, name);
      if (current !== undefined && current.partitions >= count) return;
    }
    throw operationError(`raise partitions of ${name}`, error);
  }
}

/**
 * Waits until every partition of the topics has a leader, so the first append, fetch or offset lookup
 * after a creation does not race the controller. Fails after `timeoutMs` milliseconds.
 */
export async function waitForLeaders(
  admin: Admin,
  names: readonly string[],
  minPartitions: ReadonlyMap<string, number>,
  timeoutMs = 30_000,
): Promise<void> {
  if (names.length === 0) return;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const metadata = await admin.metadata({ topics: [...names], forceUpdate: true, retries: 0 });
      const ready = names.every((name) => {
        const topic = metadata.topics.get(name);
        return (
          topic !== undefined &&
          topic.partitionsCount >= (minPartitions.get(name) ?? 1) &&
          topic.partitions.every((p) => p !== undefined && p.leader >= 0)
        );
      });
      if (ready) return;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw operationError(`wait for leaders of ${names.join(', ')}`, last ?? new Error('no leader elected'));
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Creates the topics that do not exist yet (existing ones are left as they are) and waits for their leaders. */
export async function ensureTopics(admin: Admin, configs: readonly TopicConfig[]): Promise<void> {
  const created = await Promise.all(configs.map((config) => createTopic(admin, config)));
  const fresh = configs.filter((_, i) => created[i]);
  await waitForLeaders(
    admin,
    fresh.map((c) => c.name),
    new Map(fresh.map((c) => [c.name, c.partitions])),
  );
}

/** The topic's configuration in the port's terms, or undefined when it does not exist. */
export async function describeTopicConfig(admin: Admin, name: string): Promise<TopicConfig | undefined> {
  const described = await describeTopic(admin, name);
  if (described === undefined) return undefined;
  const config: TopicConfig = {
    name: described.name,
    partitions: described.partitions,
    replication: described.replication,
    compacted: described.compacted,
    minInsyncReplicas: described.minInsyncReplicas,
  };
  if (described.retentionMs !== undefined) config.retentionMs = described.retentionMs;
  if (described.retentionBytes !== undefined) config.retentionBytes = described.retentionBytes;
  if (described.compression !== undefined) config.compression = described.compression;
  return config;
}

/** Names of the cluster's topics. */
export async function listTopics(admin: Admin): Promise<string[]> {
  try {
    return await admin.listTopics();
  } catch (error) {
    throw operationError('list topics', error);
  }
}

/** Deletes the topics that exist among `names` (missing ones are ignored). */
export async function deleteTopics(admin: Admin, names: readonly string[]): Promise<void> {
  const existing = new Set(await listTopics(admin));
  const doomed = names.filter((name) => existing.has(name));
  if (doomed.length === 0) return;
  try {
    await admin.deleteTopics({ topics: doomed });
  } catch (error) {
    if (isUnknownTopic(error)) return;
    throw operationError('delete topics', error);
  }
}
