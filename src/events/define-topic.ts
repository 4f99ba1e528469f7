import type { EventDefinition } from './define-event.ts';

/** A consumer's grant: the Kafka principal and the consumer group it reads the topic in. */
export interface TopicConsumerGrant {
  /** Kafka principal, e.g. `User:billing` (a SCRAM user name prefixed with `User:`). */
  principal: string;
  /** Consumer group the principal joins to read the topic. */
  group: string;
}

/** Who may use a topic on Kafka: `keel topics apply` makes these the topic's only ACLs. */
export interface TopicAccess {
  /** Principals that may publish to the topic (Kafka WRITE and DESCRIBE). */
  produce?: readonly string[];
  /** Principals that may consume the topic, each in its group (READ and DESCRIBE on the topic, READ on the group). */
  consume?: readonly TopicConsumerGrant[];
}

/** Record compression codecs a topic may be stored with. */
export type TopicCompression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** Every codec a topic may be compressed with. */
export const topicCompressions: readonly TopicCompression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** How to declare a topic. */
export interface TopicSpec {
  /** Topic name, e.g. `healthcare.patients.events`. */
  name: string;
  /** Number of partitions; default 1. */
  partitions?: number;
  /** Copies of each partition on Kafka; default 3. */
  replication?: number;
  /** Milliseconds records are kept; undefined keeps them forever. */
  retentionMs?: number;
  /** Bytes a partition may hold before its oldest records go; undefined is unbounded. */
  retentionBytes?: number;
  /** Keep only the newest event per partition key. */
  compacted?: boolean;
  /** Replicas that must have an event before it is acknowledged (Kafka `min.insync.replicas`); undefined leaves the brokers' default. */
  minInsyncReplicas?: number;
  /**
   * How Kafka stores the topic's records: `none`, `gzip`, `snappy`, `lz4` or `zstd` (`compression.type`,
   * the brokers recompress what producers send otherwise); undefined keeps each producer's codec.
   */
  compression?: TopicCompression;
  /**
   * How the data of its events is written: `json` (default), or `avro`, which requires every event type
   * to declare its Avro schema (`defineEvent({ avro })`).
   */
  serialization?: TopicSerialization;
  /** Event types this topic carries. */
  events: readonly EventDefinition[];
  /** One-line description for the catalog. */
  description?: string;
  /** Kafka ACLs of the topic; undefined leaves its ACLs alone. */
  access?: TopicAccess;
}

/** How a topic's event data is written. */
export type TopicSerialization = 'json' | 'avro';

/** A declared topic: plain data. */
export interface TopicDefinition {
  readonly kind: 'topic';
  readonly name: string;
  readonly partitions: number;
  readonly replication: number;
  readonly retentionMs: number | undefined;
  readonly retentionBytes: number | undefined;
  readonly compacted: boolean;
  readonly minInsyncReplicas: number | undefined;
  readonly serialization: TopicSerialization;
  readonly compression: TopicCompression | undefined;
  readonly events: readonly EventDefinition[];
  readonly description: string | undefined;
  readonly access: Readonly<Required<TopicAccess>> | undefined;
}

/** Declares a topic: its name, layout, cleanup policy and the event types it carries. */
export function defineTopic(spec: TopicSpec): TopicDefinition {
  if (!/^[a-zA-Z0-9._-]{1,249}$/.test(spec.name)) {
    throw new TypeError(`defineTopic: name "${spec.name}" must be 1-249 letters, digits, '.', '_' or '-'`);
  }
  const partitions = spec.partitions ?? 1;
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new TypeError(`defineTopic(${spec.name}): partitions must be an integer ≥ 1, got ${partitions}`);
  }
  const replication = spec.replication ?? 3;
  if (!Number.isInteger(replication) || replication < 1) {
    throw new TypeError(`defineTopic(${spec.name}): replication must be an integer ≥ 1, got ${replication}`);
  }
  for (const [key, value] of [
    ['retentionMs', spec.retentionMs],
    ['retentionBytes', spec.retentionBytes],
    ['minInsyncReplicas', spec.minInsyncReplicas],
  ] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value <= 0)) {
      throw new TypeError(`defineTopic(${spec.name}): ${key} must be a positive integer, got ${value}`);
    }
  }
  if (spec.compression !== undefined && !topicCompressions.includes(spec.compression)) {
    throw new TypeError(
      `defineTopic(${spec.name}): compression must be one of ${topicCompressions.join(', ')}, got ${spec.compression}`,
    );
  }
  const serialization = spec.serialization ?? 'json';
  if (serialization !== 'json' && serialization !== 'avro') {
    throw new TypeError(
      `defineTopic(${spec.name}): serialization must be 'json' or 'avro', got ${serialization}`,
    );
  }
  const withoutAvro = spec.events.filter((event) => event.avro === undefined).map((event) => event.type);
  if (serialization === 'avro' && withoutAvro.length > 0) {
    throw new TypeError(
      `defineTopic(${spec.name}): serialization 'avro' needs an Avro schema on every event type; missing on ${withoutAvro.join(', ')}`,
    );
  }
  return Object.freeze({
    kind: 'topic' as const,
    name: spec.name,
    partitions,
    replication,
    retentionMs: spec.retentionMs,
    retentionBytes: spec.retentionBytes,
    compacted: spec.compacted ?? false,
    minInsyncReplicas: spec.minInsyncReplicas,
    serialization,
    compression: spec.compression,
    events: Object.freeze([...spec.events]),
    description: spec.description,
    access: spec.access === undefined ? undefined : checkAccess(spec.name, spec.access),
  });
}

const principalPattern = /^[A-Za-z]+:\S+$/;

function checkAccess(topic: string, access: TopicAccess): Readonly<Required<TopicAccess>> {
  const fail = (what: string) => {
    throw new TypeError(`defineTopic(${topic}): access.${what}`);
  };
  const produce = access.produce ?? [];
  const consume = access.consume ?? [];
  produce.forEach((principal, i) => {
    if (typeof principal !== 'string' || !principalPattern.test(principal))
      fail(`produce[${i}] must be a principal like "User:billing", got ${JSON.stringify(principal)}`);
  });
  consume.forEach((grant, i) => {
    if (typeof grant?.principal !== 'string' || !principalPattern.test(grant.principal))
      fail(
        `consume[${i}].principal must be a principal like "User:billing", got ${JSON.stringify(grant?.principal)}`,
      );
    if (typeof grant.group !== 'string' || grant.group.trim() === '')
      fail(`consume[${i}].group must be a consumer group id, got ${JSON.stringify(grant.group)}`);
  });
  return Object.freeze({
    produce: Object.freeze([...produce]),
    consume: Object.freeze(consume.map((g) => Object.freeze({ principal: g.principal, group: g.group }))),
  });
}
