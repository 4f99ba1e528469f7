import { randomUUID } from 'node:crypto';
import {
  Admin,
  type Broker,
  FetchIsolationLevels,
  FindCoordinatorKeyTypes,
  type fetchV17,
  Consumer as KafkaClientConsumer,
  ListOffsetTimestamps,
  type ProduceResult,
  Producer,
} from '@platformatic/kafka';
import { pino } from 'pino';
import { TransportClosedError, UnknownTopicError } from '../errors.ts';
import { partitionLag } from '../partition-lag.ts';
import { validateTopicConfig } from '../topic-config.ts';
import type {
  OffsetCommit,
  PartitionLag,
  PartitionOffsets,
  PartitionWrite,
  StoredRecord,
  TopicConfig,
  Transport,
  TransportCapabilities,
} from '../transport.ts';
import {
  hasKafkaError,
  isRetryableClientError,
  isUnknownTopic,
  kafkaErrorNames,
  operationError,
} from './client-errors.ts';
import { GroupNotEmptyError } from './errors.ts';
import { createKafkaConsumer, type KafkaConsumer } from './kafka-consumer.ts';
import {
  clientBaseOptions,
  type KafkaTransportOptions,
  resolveConsumerDefaults,
  resolveProducerOptions,
} from './kafka-options.ts';
import { createProduceQueue, type QueuedWrite, resendDelayMs } from './produce-queue.ts';
import { decodeBatches, type ProducedMessage, recordSize, toMessage } from './record-codec.ts';
import { createTopic, describeTopic, waitForLeaders } from './topic-admin.ts';
import { applyTopicPlan, planTopics, type TopicPlan } from './topic-plan.ts';
import { createTransactionQueue } from './transaction-queue.ts';

type FetchResponse = fetchV17.FetchResponse;

/** Where `resetGroupOffsets` moves a group: the log start, the log end, the first record at or after a time, or an offset. */
export type OffsetResetTarget = 'earliest' | 'latest' | { timestamp: number } | { offset: bigint };

/** The Kafka transport: the port, plus the Kafka-only administration Keel's CLI and operators use. */
export interface KafkaTransport extends Transport {
  /** The bootstrap servers it connects to. */
  readonly brokers: readonly string[];
  /** What bringing these topics to their definitions would change (and what Kafka cannot change); changes nothing. */
  planTopics(definitions: readonly TopicConfig[]): Promise<TopicPlan>;
  /** Applies a plan from `planTopics`; refused as a whole (TopicChangeRefusedError) when it has refusals. Idempotent. */
  applyTopics(plan: TopicPlan): Promise<void>;
  /**
   * Moves a group's committed offsets on a topic (all partitions, or those listed) and returns them. The group
   * must have no members (GroupNotEmptyError otherwise): live members would overwrite the reset. An offset
   * outside a partition's log is clamped into it; a time after the last record resets to the log end.
   */
  resetGroupOffsets(
    group: string,
    topic: string,
    to: OffsetResetTarget,
    partitions?: readonly number[],
  ): Promise<OffsetCommit[]>;
  /** Deletes topics (missing ones are ignored). */
  deleteTopics(names: readonly string[]): Promise<void>;
  /**
   * Drops everything at once, like a killed process: queued appends are rejected unwritten, sockets are
   * closed without leaving groups (members expire after their session timeout).
   */
  abort(): Promise<void>;
  /** Same as `close`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

const capabilities: TransportCapabilities = Object.freeze({
  // A transaction per append costs 3x the throughput with this client (docs/decisions/0005-kafka-adapter.md);
  // `appendAtomically` is the transactional path.
  atomicMultiPartitionAppend: false,
  // Retention and compaction are the brokers' job, on their own schedule.
  onDemandMaintenance: false,
});

const RETRY_DELAY_MS = 250;
/** Retries the client makes inside one produce request before the produce queue sends it again. */
const PRODUCE_RETRIES = 4;
// The coordinator answers CONCURRENT_TRANSACTIONS while it still writes the previous transaction's markers;
// the client's retry delay is all a new transaction then waits, so the transactional producer's is short.
const TRANSACTION_RETRY_DELAY_MS = 20;
/** Errors of a producer's idempotence state, which a transaction on a fresh producer does not meet. */
const PRODUCER_STATE_ERRORS = [
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'INVALID_PRODUCER_EPOCH',
  'UNKNOWN_PRODUCER_ID',
];
/** Retries the transactional client makes inside one request: about two seconds. */
const TRANSACTION_CLIENT_RETRIES = 100;

/** Connects the Kafka transport (clients connect lazily, on first use). */
export function createKafkaTransport(options: KafkaTransportOptions): KafkaTransport {
  const base = clientBaseOptions(options);
  const producerOptions = resolveProducerOptions(options.producer);
  const consumerDefaults = resolveConsumerDefaults(options.consumer);
  const logger = (options.logger ?? pino({ level: 'silent' })).child({ transport: 'kafka' });

  const admin = new Admin({ ...base, retries: 5, retryDelay: RETRY_DELAY_MS });
  const producer = new Producer({
    ...base,
    idempotent: true,
    acks: -1,
    compression: producerOptions.compression,
    // A few retries inside one send ride out a blip with the idempotent sequence kept. Longer failures go
    // back to the produce queue, which sends again with fresh leaders until the delivery timeout: the
    // client keeps a send's grouping by leader through its own retries, so a send caught by a leader change
    // would otherwise fail until the delivery timeout (the client retries an idempotent produce forever by
    // default, and `retries` of 1 or less means that).
    retries: PRODUCE_RETRIES,
    retryDelay: RETRY_DELAY_MS,
  });
  // Reads outside any group (replay, browsing) go through a client that never joins one.
  const reader = new KafkaClientConsumer({
    ...base,
    clientId: `${base.clientId}-reader`,
    groupId: `${base.clientId}-reader`,
    // Reads show what consumers see: committed transactions only (aborted ones are filtered when decoding).
    isolationLevel: FetchIsolationLevels.READ_COMMITTED,
    retries: 3,
    retryDelay: RETRY_DELAY_MS,
  });
  let readQueue: Promise<unknown> = Promise.resolve();
  const consumers = new Set<KafkaConsumer>();
  let state: 'open' | 'closing' | 'closed' = 'open';
  let closing: Promise<void> | undefined;

  const queue = createProduceQueue({
    send: (messages) => producer.send({ messages }),
    logger,
    lingerMs: producerOptions.lingerMs,
    maxBatchRecords: producerOptions.maxBatchRecords,
    maxBatchBytes: producerOptions.maxBatchBytes,
    mapError: (error) => operationError('append', error),
    deliveryTimeoutMs: producerOptions.deliveryTimeoutMs,
    isRetryable: isRetryableClientError,
    refresh: () => producer.clearMetadata(),
  });

  // The transactional producer exists only once `appendAtomically` is used; a failed abort drops it, and the
  // next transaction starts on a fresh one (its InitProducerId fences the old epoch and aborts what it left).
  let transactional: Producer | undefined;
  const transactionalId = producerOptions.transactionalId ?? `${base.clientId}-${randomUUID()}`;
  const transactionalProducer = (): Producer =>
    (transactional ??= new Producer({
      ...base,
      clientId: `${base.clientId}-transactions`,
      idempotent: true,
      transactionalId,
      // InitProducerId must say "no previous producer" (-1), or the coordinator refuses a restart under the same
      // id as fenced; the client sends 0 when not told.
      producerId: -1n,
      producerEpoch: -1,
      acks: -1,
      compression: producerOptions.compression,
      // Sent with InitProducerId, the client's `timeout` is the brokers' transaction timeout.
      timeout: producerOptions.transactionTimeoutMs,
      // Like the plain producer's: a short budget inside one request (it also covers CONCURRENT_TRANSACTIONS,
      // answered for the milliseconds the coordinator writes the previous markers); a transaction that still
      // fails before its commit is aborted and run again with fresh leaders (see `run` below).
      retries: TRANSACTION_CLIENT_RETRIES,
      retryDelay: TRANSACTION_RETRY_DELAY_MS,
    }));
  // One Kafka transaction carrying `chunks`. `progress.committing` turns true as EndTxn is sent: a failure
  // after that leaves the outcome unknown, one before it left nothing written.
  const runTransaction = async (chunks: ProducedMessage[][], progress: { committing: boolean }) => {
    const client = transactionalProducer();
    let tx: Awaited<ReturnType<Producer['beginTransaction']>>;
    try {
      tx = await client.beginTransaction();
    } catch (error) {
      // The client keeps a transaction that failed to begin as the active one; let it go.
      await client.transaction?.cancel();
      throw error;
    }
    try {
      const results = [];
      for (const messages of chunks) results.push(await tx.send({ messages }));
      progress.committing = true;
      await tx.commit();
      // Committed is committed: failing the append now would have its caller write it twice.
      await untilReadable(chunks, results).catch((error: unknown) => {
        logger.warn(
          { err: error },
          'kafka transport: committed transaction; cannot tell yet that it is readable',
        );
      });
      return results;
    } catch (error) {
      let replace = !progress.committing;
      if (!tx.completed) {
        try {
          await tx.abort();
        } catch (abortError) {
          logger.warn({ err: abortError }, 'kafka transport: abort failed');
          replace = true;
        }
      }
      // After a failed send the client's sequence numbers no longer match the brokers' (it resets them for
      // idempotent producers only), so every later transaction on it would fail with
      // OUT_OF_ORDER_SEQUENCE_NUMBER; after a failed abort the transaction is still open. Either way the next
      // one starts on a fresh producer, whose InitProducerId fences this one and aborts what it left open.
      if (replace && transactional === client) {
        transactional = undefined;
        await client.close(true).catch((closeError: unknown) => {
          logger.debug({ err: closeError }, 'kafka transport: closing the replaced producer failed');
        });
      }
      throw error;
    }
  };

  const transactions = createTransactionQueue({
    // A transaction that failed before its commit was aborted and wrote nothing, so it may run again: as
    // with plain sends, one caught by a leader change succeeds only as a new one, with fresh leaders, and
    // one that failed on the producer's state succeeds on the fresh producer. A failed commit is not run
    // again (it may have committed), nor one whose error says running again cannot help.
    run: async (chunks) => {
      const started = Date.now();
      for (let resend = 0; ; resend++) {
        const progress = { committing: false };
        try {
          return await runTransaction(chunks, progress);
        } catch (error) {
          const pause = resendDelayMs(resend);
          const expired = Date.now() + pause - started >= producerOptions.deliveryTimeoutMs;
          const curable =
            isRetryableClientError(error) || PRODUCER_STATE_ERRORS.some((name) => hasKafkaError(error, name));
          if (progress.committing || expired || !curable) throw error;
          logger.warn(
            { err: operationError('atomic append', error), inMs: pause, resend: resend + 1 },
            'kafka transport: transaction failed before its commit and was aborted; running it again',
          );
          transactional?.clearMetadata();
          await new Promise((resolve) => setTimeout(resolve, pause));
        }
      }
    },
    logger,
    maxBatchRecords: producerOptions.maxBatchRecords,
    maxBatchBytes: producerOptions.maxBatchBytes,
    mapError: (error) => operationError('atomic append', error),
  });

  // EndTxn returns before the brokers wrote the commit markers, and `read_committed` readers see nothing of
  // the transaction until they did. Waiting for every written partition's last stable offset to pass the
  // transaction gives atomic appends read-your-writes, like `append`; a later transaction would wait for the
  // markers anyway (CONCURRENT_TRANSACTIONS).
  const untilReadable = async (chunks: ProducedMessage[][], results: ProduceResult[]): Promise<void> => {
    const ends = new Map<string, Map<number, bigint>>();
    chunks.forEach((messages, c) => {
      const counts = new Map<string, bigint>();
      for (const m of messages) {
        const id = `${m.topic}\u0000${m.partition}`;
        counts.set(id, (counts.get(id) ?? 0n) + 1n);
      }
      for (const produced of results[c]?.offsets ?? []) {
        const count = counts.get(`${produced.topic}\u0000${produced.partition}`) ?? 0n;
        const partitions = ends.get(produced.topic) ?? new Map<number, bigint>();
        const end = produced.offset + count;
        if ((partitions.get(produced.partition) ?? -1n) < end) partitions.set(produced.partition, end);
        ends.set(produced.topic, partitions);
      }
    });
    const deadline = Date.now() + producerOptions.transactionTimeoutMs;
    while (ends.size > 0) {
      const listed = await admin.listOffsets({
        isolationLevel: FetchIsolationLevels.READ_COMMITTED,
        topics: [...ends].map(([name, partitions]) => ({
          name,
          partitions: [...partitions.keys()].map((partitionIndex) => ({
            partitionIndex,
            timestamp: ListOffsetTimestamps.LATEST,
          })),
        })),
      });
      for (const topic of listed) {
        const partitions = ends.get(topic.name);
        for (const p of topic.partitions) {
          if (partitions !== undefined && p.offset >= (partitions.get(p.partitionIndex) ?? 0n))
            partitions.delete(p.partitionIndex);
        }
        if (partitions?.size === 0) ends.delete(topic.name);
      }
      if (ends.size === 0) return;
      if (Date.now() > deadline) {
        // Committed is committed: the markers will come; the caller is not failed for their delay.
        logger.warn(
          { partitions: [...ends.keys()] },
          'kafka transport: committed transaction not yet readable',
        );
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  };

  const ensureOpen = (operation: string): void => {
    if (state === 'closed') throw new TransportClosedError(operation);
  };

  // Partition count of a topic from the producer's metadata (cached for 5 s); refreshed once when it
  // looks too small, since partitions may have been added since.
  const partitionCount = async (topic: string, atLeast = 1): Promise<number> => {
    const lookup = async (forceUpdate: boolean): Promise<number> => {
      for (let attempt = 0; ; attempt++) {
        try {
          // No client retries: they would retry "unknown topic" too, which is an answer, not a failure.
          const metadata = await producer.metadata({ topics: [topic], forceUpdate, retries: 0 });
          return metadata.topics.get(topic)?.partitionsCount ?? 0;
        } catch (error) {
          if (isUnknownTopic(error)) return 0;
          if (attempt >= 4) throw operationError('metadata', error);
          await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
        }
      }
    };
    const cached = await lookup(false);
    return cached >= atLeast ? cached : lookup(true);
  };
  const existingTopic = async (topic: string): Promise<number> => {
    const count = await partitionCount(topic);
    if (count === 0) throw new UnknownTopicError(topic);
    return count;
  };
  const existingPartition = async (topic: string, partition: number): Promise<void> => {
    if (!Number.isInteger(partition) || partition < 0) throw new UnknownTopicError(topic, partition);
    const count = await partitionCount(topic, partition + 1);
    if (count === 0) throw new UnknownTopicError(topic);
    if (partition >= count) throw new UnknownTopicError(topic, partition);
  };

  const listOffsets = async (
    topic: string,
    partitions: readonly number[],
    timestamp: bigint,
  ): Promise<Map<number, bigint>> => {
    try {
      const [listed] = await admin.listOffsets({
        topics: [
          { name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })) },
        ],
      });
      return new Map((listed?.partitions ?? []).map((p) => [p.partitionIndex, p.offset]));
    } catch (error) {
      if (isUnknownTopic(error)) throw new UnknownTopicError(topic);
      throw operationError('list offsets', error);
    }
  };
  const range = (count: number): number[] => Array.from({ length: count }, (_, i) => i);

  const fetchOnce = async (
    topic: string,
    partition: number,
    offset: bigint,
  ): Promise<{ response: FetchResponse | undefined; error: unknown }> => {
    if (!reader.topics.has(topic)) reader.topics.track(topic);
    const metadata = await reader.metadata({ topics: [topic] });
    const topicMetadata = metadata.topics.get(topic);
    const leader = topicMetadata?.partitions[partition]?.leader;
    if (topicMetadata === undefined || leader === undefined || leader < 0) {
      reader.clearMetadata();
      return { response: undefined, error: new Error(`no leader for ${topic}[${partition}]`) };
    }
    try {
      const response = await reader.fetch({
        node: leader,
        topics: [
          {
            topicId: topicMetadata.id,
            partitions: [
              {
                partition,
                fetchOffset: offset,
                currentLeaderEpoch: -1,
                lastFetchedEpoch: -1,
                partitionMaxBytes: consumerDefaults.fetchMaxBytesPerPartition,
              },
            ],
          },
        ],
        maxWaitTime: 0,
        minBytes: 0,
      });
      return { response, error: undefined };
    } catch (error) {
      return { response: (error as { response?: FetchResponse }).response, error };
    }
  };

  const readRange = async (
    topic: string,
    partition: number,
    fromOffset: bigint,
    maxRecords: number,
  ): Promise<StoredRecord[]> => {
    const out: StoredRecord[] = [];
    let offset = fromOffset;
    for (let attempt = 0; out.length < maxRecords; ) {
      const { response, error } = await fetchOnce(topic, partition, offset);
      const result = response?.responses[0]?.partitions.find(
        (p: fetchV17.FetchResponsePartition) => p.partitionIndex === partition,
      );
      if (error !== undefined) {
        if (result !== undefined && kafkaErrorNames(error).includes('OFFSET_OUT_OF_RANGE')) {
          // Below the log start (retention deleted it): read on from the start, as the embedded log does.
          if (offset < result.logStartOffset) {
            offset = result.logStartOffset;
            continue;
          }
          break;
        }
        if (++attempt > 3) throw operationError('read', error);
        reader.clearMetadata();
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
        continue;
      }
      if (result === undefined) break;
      const decoded = decodeBatches(
        topic,
        partition,
        result.records ?? [],
        offset,
        maxRecords - out.length,
        result.abortedTransactions,
      );
      out.push(...decoded.records);
      // Past the last stable offset only records of open transactions remain: not readable yet.
      const readable = result.lastStableOffset >= 0n ? result.lastStableOffset : result.highWatermark;
      if (decoded.nextOffset === undefined || decoded.nextOffset >= readable) break;
      offset = decoded.nextOffset;
    }
    return out;
  };

  const findCoordinator = async (group: string): Promise<Broker> => {
    try {
      const [found] = await admin.findCoordinator({ keyType: FindCoordinatorKeyTypes.GROUP, keys: [group] });
      if (found === undefined) throw new Error(`no coordinator for group "${group}"`);
      return { host: found.host, port: found.port };
    } catch (error) {
      throw operationError('find coordinator', error);
    }
  };

  const committedOffsets = async (group: string, topic: string, partitions: readonly number[]) => {
    try {
      const [listed] = await admin.listConsumerGroupOffsets({
        groups: [{ groupId: group, topics: [{ name: topic, partitionIndexes: [...partitions] }] }],
      });
      const committed = new Map<number, bigint>();
      for (const t of listed?.topics ?? []) {
        if (t.name !== topic) continue;
        for (const p of t.partitions)
          if (p.committedOffset >= 0n) committed.set(p.partitionIndex, p.committedOffset);
      }
      return committed;
    } catch (error) {
      throw operationError('list group offsets', error);
    }
  };

  // Every write is checked before any is queued: a bad one fails the call with nothing written.
  const prepareWrites = async (writes: readonly PartitionWrite[]): Promise<QueuedWrite[]> => {
    const checked = new Map<string, Promise<void>>();
    for (const write of writes) {
      const id = `${write.topic}\u0000${write.partition}`;
      if (!checked.has(id)) checked.set(id, existingPartition(write.topic, write.partition));
    }
    await Promise.all(checked.values());
    const now = Date.now();
    return writes.map((write) => ({
      topic: write.topic,
      partition: write.partition,
      messages: write.records.map((record) => toMessage(write.topic, write.partition, record, now)),
      sizes: write.records.map(recordSize),
    }));
  };

  const closeClients = async (): Promise<void> => {
    await Promise.allSettled([producer.close(), reader.close(), admin.close(), transactional?.close()]);
  };

  const transport: KafkaTransport = {
    name: 'kafka',
    capabilities,
    brokers: Object.freeze([...options.brokers]),

    ensureTopics: async (configs) => {
      ensureOpen('ensureTopics');
      for (const config of configs) validateTopicConfig(config);
      const created = await Promise.all(configs.map((config) => createTopic(admin, config)));
      const fresh = configs.filter((_, i) => created[i]);
      await waitForLeaders(
        admin,
        fresh.map((c) => c.name),
        new Map(fresh.map((c) => [c.name, c.partitions])),
      );
    },

    describeTopic: async (name) => {
      ensureOpen('describeTopic');
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
      return config;
    },

    listTopics: async () => {
      ensureOpen('listTopics');
      try {
        return await admin.listTopics();
      } catch (error) {
        throw operationError('list topics', error);
      }
    },

    append: async (writes) => {
      // Appends made while consumers close (e.g. from a revoke callback) are still sent.
      ensureOpen('append');
      return queue.enqueue(await prepareWrites(writes));
    },

    appendAtomically: async (writes) => {
      ensureOpen('appendAtomically');
      return transactions.enqueue(await prepareWrites(writes));
    },

    read: async (topic, partition, fromOffset, maxRecords) => {
      ensureOpen('read');
      await existingPartition(topic, partition);
      if (typeof fromOffset !== 'bigint') throw new TypeError('read: fromOffset must be a bigint');
      if (!Number.isInteger(maxRecords) || maxRecords <= 0) return [];
      // One read at a time: the reader's fetch sessions with each broker must not interleave.
      const run = readQueue.then(() =>
        readRange(topic, partition, fromOffset < 0n ? 0n : fromOffset, maxRecords),
      );
      readQueue = run.catch(() => undefined);
      return run;
    },

    offsets: async (topic) => {
      ensureOpen('offsets');
      const partitions = range(await existingTopic(topic));
      const [earliest, latest] = await Promise.all([
        listOffsets(topic, partitions, ListOffsetTimestamps.EARLIEST),
        listOffsets(topic, partitions, ListOffsetTimestamps.LATEST),
      ]);
      return partitions.map(
        (partition): PartitionOffsets => ({
          topic,
          partition,
          earliest: earliest.get(partition) ?? 0n,
          latest: latest.get(partition) ?? 0n,
        }),
      );
    },

    consumer: (consumerOptions) => {
      if (state !== 'open') throw new TransportClosedError('consumer');
      const consumer = createKafkaConsumer(
        {
          base,
          defaults: consumerDefaults,
          logger,
          findCoordinator,
          forget: (c) => consumers.delete(c),
        },
        consumerOptions,
      );
      consumers.add(consumer);
      return consumer;
    },

    groupLag: async (group, topics) => {
      ensureOpen('groupLag');
      const lags: PartitionLag[] = [];
      for (const topic of topics) {
        const partitions = range(await existingTopic(topic));
        const [earliest, latest, committed] = await Promise.all([
          listOffsets(topic, partitions, ListOffsetTimestamps.EARLIEST),
          listOffsets(topic, partitions, ListOffsetTimestamps.LATEST),
          committedOffsets(group, topic, partitions),
        ]);
        for (const partition of partitions) {
          const offset = committed.get(partition) ?? null;
          lags.push(
            partitionLag(
              topic,
              partition,
              offset,
              earliest.get(partition) ?? 0n,
              latest.get(partition) ?? 0n,
            ),
          );
        }
      }
      return lags;
    },

    maintain: async () => {
      ensureOpen('maintain');
    },

    planTopics: async (definitions) => {
      ensureOpen('planTopics');
      for (const definition of definitions) validateTopicConfig(definition);
      return planTopics(admin, definitions);
    },

    applyTopics: async (plan) => {
      ensureOpen('applyTopics');
      await applyTopicPlan(admin, plan);
    },

    resetGroupOffsets: async (group, topic, to, only) => {
      ensureOpen('resetGroupOffsets');
      const all = range(await existingTopic(topic));
      const partitions = only === undefined ? all : [...new Set(only)];
      for (const p of partitions) if (!all.includes(p)) throw new UnknownTopicError(topic, p);
      let described: { state: string; members: Map<string, unknown> } | undefined;
      try {
        described = (await admin.describeGroups({ groups: [group] })).get(group);
      } catch (error) {
        throw operationError('describe group', error);
      }
      const groupState = described?.state ?? 'Dead';
      if ((described?.members.size ?? 0) > 0 || !['Empty', 'Dead'].includes(groupState)) {
        throw new GroupNotEmptyError(group, groupState, described?.members.size ?? 0);
      }
      const [earliest, latest] = await Promise.all([
        listOffsets(topic, partitions, ListOffsetTimestamps.EARLIEST),
        listOffsets(topic, partitions, ListOffsetTimestamps.LATEST),
      ]);
      let target: (partition: number) => bigint;
      if (to === 'earliest') target = (p) => earliest.get(p) ?? 0n;
      else if (to === 'latest') target = (p) => latest.get(p) ?? 0n;
      else if ('timestamp' in to) {
        if (!Number.isInteger(to.timestamp) || to.timestamp < 0) {
          throw new TypeError(
            `resetGroupOffsets: timestamp must be milliseconds since the epoch, got ${to.timestamp}`,
          );
        }
        const byTime = await listOffsets(topic, partitions, BigInt(to.timestamp));
        // -1: no record at or after the time; the group starts at the end, as kafka-consumer-groups does.
        target = (p) => {
          const offset = byTime.get(p) ?? -1n;
          return offset < 0n ? (latest.get(p) ?? 0n) : offset;
        };
      } else {
        if (typeof to.offset !== 'bigint') throw new TypeError('resetGroupOffsets: offset must be a bigint');
        target = (p) => {
          const low = earliest.get(p) ?? 0n;
          const high = latest.get(p) ?? 0n;
          return to.offset < low ? low : to.offset > high ? high : to.offset;
        };
      }
      const offsets = partitions.map((partition) => ({ topic, partition, offset: target(partition) }));
      try {
        await admin.alterConsumerGroupOffsets({
          groupId: group,
          topics: [
            {
              name: topic,
              partitionOffsets: offsets.map((o) => ({ partition: o.partition, offset: o.offset })),
            },
          ],
        });
      } catch (error) {
        // A member joined between the check and the commit: the coordinator refuses commits from outside.
        if (
          kafkaErrorNames(error).some((name) => ['UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS'].includes(name))
        ) {
          throw new GroupNotEmptyError(group, 'active', 1);
        }
        throw operationError('reset group offsets', error);
      }
      return offsets;
    },

    deleteTopics: async (names) => {
      ensureOpen('deleteTopics');
      const existing = new Set(await transport.listTopics());
      const doomed = names.filter((name) => existing.has(name));
      if (doomed.length === 0) return;
      try {
        await admin.deleteTopics({ topics: doomed });
      } catch (error) {
        if (isUnknownTopic(error)) return;
        throw operationError('delete topics', error);
      }
    },

    close: () => {
      closing ??= (async () => {
        if (state === 'closed') return;
        state = 'closing';
        await Promise.all([queue.drain(), transactions.drain()]);
        await Promise.allSettled([...consumers].map((consumer) => consumer.close()));
        await Promise.all([queue.drain(), transactions.drain()]);
        state = 'closed';
        await closeClients();
      })();
      return closing;
    },

    abort: async () => {
      if (state === 'closed') return;
      state = 'closed';
      queue.abandon(new TransportClosedError('append'));
      transactions.abandon(new TransportClosedError('appendAtomically'));
      await Promise.allSettled([...consumers].map((consumer) => consumer.abandon()));
      const clients =
        transactional === undefined ? [producer, reader, admin] : [producer, reader, admin, transactional];
      await Promise.allSettled(clients.map((client) => client.connections.close()));
      await closeClients();
    },

    [Symbol.asyncDispose]: () => transport.close(),
  };
  return transport;
}
