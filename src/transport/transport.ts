import type { TopicCompression } from '../events/define-topic.ts';
/** A record as it is handed to the transport: bytes plus metadata, Kafka-shaped. */
export interface OutgoingRecord {
  /** Partitioning and compaction key; null for keyless records. */
  key: string | null;
  /** Payload bytes; null is a tombstone on compacted topics. */
  value: Uint8Array | null;
  /** String headers (the CloudEvents Kafka binding puts `ce_*` attributes here). */
  headers: Readonly<Record<string, string>>;
  /** Milliseconds since the epoch; the transport sets it to now when absent. */
  timestamp?: number;
}

/** A record as read back from a partition. */
export interface StoredRecord {
  topic: string;
  partition: number;
  /** Position in the partition; strictly increasing, may have gaps after compaction. */
  offset: bigint;
  key: string | null;
  value: Uint8Array | null;
  headers: Readonly<Record<string, string>>;
  /** Milliseconds since the epoch when the record was appended (or the producer's timestamp). */
  timestamp: number;
}

/** A topic's layout and cleanup policy. */
export interface TopicConfig {
  name: string;
  /** Number of partitions, at least 1. */
  partitions: number;
  /** Copies kept of each partition (ignored by the embedded transport, which has one). */
  replication?: number;
  /** Records older than this many milliseconds may be deleted; undefined keeps them forever. */
  retentionMs?: number;
  /** A partition larger than this many bytes drops its oldest records; undefined is unbounded. */
  retentionBytes?: number;
  /** Keep only the newest record per key (Kafka `cleanup.policy=compact`). */
  compacted?: boolean;
  /** Replicas that must have a write before it is acknowledged (Kafka `min.insync.replicas`; ignored by the embedded transport); undefined leaves the brokers' default. */
  minInsyncReplicas?: number;
  /**
   * How the topic's records are stored compressed (Kafka `compression.type`: the brokers recompress batches
   * a producer wrote with another codec; embedded: each record's value on its own); undefined keeps what
   * each producer sends (embedded: the transport's `compression`).
   */
  compression?: TopicCompression;
}

/** Record compression codecs a topic may be stored with. */
export type { TopicCompression };

/** A topic and one of its partitions. */
export interface TopicPartition {
  topic: string;
  partition: number;
}

/** Offsets bounding a partition: the first still stored and the next to be written. */
export interface PartitionOffsets extends TopicPartition {
  /** Offset of the oldest record still held (log start offset). */
  earliest: bigint;
  /** Offset the next appended record will get (log end offset, high watermark). */
  latest: bigint;
}

/** Records to append to one partition. */
export interface PartitionWrite extends TopicPartition {
  records: readonly OutgoingRecord[];
}

/** An offset to commit: the next offset the group should read from this partition. */
export interface OffsetCommit extends TopicPartition {
  offset: bigint;
}

/** Lag of a group on one partition. */
export interface PartitionLag extends TopicPartition {
  /** Next offset the group will read; null when the group never committed here. */
  committed: bigint | null;
  latest: bigint;
  /** Records between the committed offset (or the log start) and the end. */
  lag: bigint;
}

/** Where a group starts in a partition it has never committed to. */
export type StartFrom = 'earliest' | 'latest';

/** How a group member is configured. */
export interface ConsumerOptions {
  /** Consumer group id: members of one group share the partitions of its topics. */
  group: string;
  topics: readonly string[];
  /** Where to start in partitions with no committed offset; default `earliest`. */
  startFrom?: StartFrom;
  /** Most records one `poll` returns; default 500. */
  maxRecords?: number;
  /** A member silent for this many milliseconds is considered gone; default 10 000. */
  sessionTimeoutMs?: number;
  /** Milliseconds between heartbeats; default a third of the session timeout. */
  heartbeatIntervalMs?: number;
  /** Called, and awaited, before partitions are taken away, so in-flight work can finish and commit. */
  onPartitionsRevoked?: (partitions: readonly TopicPartition[]) => Promise<void>;
  /** Called after partitions have been given to this member. */
  onPartitionsAssigned?: (partitions: readonly TopicPartition[]) => Promise<void>;
  /**
   * Give partition `i` of every subscribed topic to one member (range-style), so records placed in the same
   * partition number of several topics meet at one member; default false (balanced round-robin). Every
   * member of a group must say the same.
   */
  coPartitioned?: boolean;
}

/** One member of a consumer group. */
export interface Consumer {
  /** Id of this member within its group. */
  readonly memberId: string;
  /**
   * Next records from the partitions this member holds, in offset order per partition,
   * waiting up to `maxWaitMs` milliseconds for some to arrive. Joins the group on first call.
   */
  poll(maxWaitMs: number): Promise<StoredRecord[]>;
  /** Commits offsets (the next offset to read); refused for partitions this member no longer holds. */
  commit(offsets: readonly OffsetCommit[]): Promise<void>;
  /**
   * Appends records and commits offsets as one atomic step, fenced like `commit`: a member that no longer
   * holds a partition writes nothing (one SQLite transaction on the embedded log; a Kafka transaction that
   * carries the offsets). Used to move a record on (to a retry or dead-letter topic) and commit past it.
   */
  appendAndCommit(writes: readonly PartitionWrite[], offsets: readonly OffsetCommit[]): Promise<void>;
  /** Partitions this member holds now. */
  assignment(): readonly TopicPartition[];
  /** Stops returning records from these partitions until resumed. */
  pause(partitions: readonly TopicPartition[]): void;
  /** Resumes partitions paused earlier. */
  resume(partitions: readonly TopicPartition[]): void;
  /** Leaves the group (its partitions go to the other members) and frees resources. */
  close(): Promise<void>;
}

/** Bytes one partition holds on disk (embedded: its records' keys, values and headers; Kafka: its log). */
export interface PartitionSize {
  partition: number;
  bytes: number;
}

/** A condition on a record's value read as JSON, for `readMatching`: a path, an operator and a literal. */
export interface ValueCondition {
  /** Object keys and array indexes from the top of the value. */
  path: readonly (string | number)[];
  operator: '==' | '!=' | '>' | '>=' | '<' | '<=' | '~=';
  value: string | number | boolean | null;
}

/** What `readMatching` looks for in one partition. */
export interface MatchingReadRequest {
  /** Conditions on the value; records whose value is not JSON (or is stored compressed) are returned as they are. */
  conditions: readonly ValueCondition[];
  /** Only records carrying this header are held to the conditions; the others are returned as they are. */
  whenHeader?: string;
  /** Only records with this key. */
  key?: string;
  /** Most records to look at. */
  maxScan: number;
  /** Most records to return. */
  maxRecords: number;
}

/** Records `readMatching` kept, how many it looked at, and where the next look starts (null: the log end). */
export interface MatchingRead {
  records: StoredRecord[];
  scanned: number;
  next: bigint | null;
}

/** What an adapter can do, so the contract suite runs the tests that apply and says so. */
export interface TransportCapabilities {
  /** Plain `append` with writes to several partitions is all-or-nothing (`appendAtomically` always is). */
  atomicMultiPartitionAppend: boolean;
  /** Retention and compaction can be triggered on demand (`maintain`). */
  onDemandMaintenance: boolean;
}

/**
 * The Transport port: a partitioned, replayable log with consumer groups.
 * Kafka semantics are the reference; every adapter passes `src/transport/contract`.
 */
export interface Transport {
  /** Adapter name, e.g. `embedded` or `kafka`. */
  readonly name: string;
  readonly capabilities: TransportCapabilities;
  /** Creates topics that do not exist; an existing topic is left as it is. */
  ensureTopics(topics: readonly TopicConfig[]): Promise<void>;
  /** The topic's configuration, or undefined when it does not exist. */
  describeTopic(name: string): Promise<TopicConfig | undefined>;
  /** Names of every topic. */
  listTopics(): Promise<string[]>;
  /** Appends records and resolves, once durable, with their offsets (one array per write, in order). */
  append(writes: readonly PartitionWrite[]): Promise<bigint[][]>;
  /**
   * Appends records all-or-nothing across topics and partitions, and resolves like `append`: readers and
   * consumers see every record of the call or none (a Kafka transaction on Kafka). May cost more than `append`.
   */
  appendAtomically(writes: readonly PartitionWrite[]): Promise<bigint[][]>;
  /** Reads up to `maxRecords` records of one partition from `fromOffset` on (inclusive). */
  read(topic: string, partition: number, fromOffset: bigint, maxRecords: number): Promise<StoredRecord[]>;
  /**
   * Optional: reads one partition from `fromOffset` on, looking at up to `maxScan` records, and returns those
   * that may meet the request where the records are kept (SQLite's JSON functions), without building the
   * others. A superset: every record that meets the conditions is returned, and some that do not may be,
   * so the caller checks what it gets. Adapters without it are read with `read` and filtered by the caller.
   */
  readMatching?(
    topic: string,
    partition: number,
    fromOffset: bigint,
    request: MatchingReadRequest,
  ): Promise<MatchingRead>;
  /** Earliest and latest offsets of each partition of a topic. */
  offsets(topic: string): Promise<PartitionOffsets[]>;
  /** Bytes each partition of a topic holds, by partition (on Kafka, its largest replica's log). */
  sizes(topic: string): Promise<PartitionSize[]>;
  /** Joins a consumer group. */
  consumer(options: ConsumerOptions): Consumer;
  /** Committed offsets and lag of a group on every partition of its topics. */
  groupLag(group: string, topics: readonly string[]): Promise<PartitionLag[]>;
  /** Applies retention and compaction now (adapters with `onDemandMaintenance`). */
  maintain(): Promise<void>;
  /** Flushes pending writes and releases connections. */
  close(): Promise<void>;
}
