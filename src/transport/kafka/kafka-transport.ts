import { Admin } from '@platformatic/kafka';
import { type Logger, pino } from 'pino';
import { TransportClosedError, UnknownTopicError } from '../errors.ts';
import { validateTopicConfig } from '../topic-config.ts';
import type { OffsetCommit, TopicConfig, Transport, TransportCapabilities } from '../transport.ts';
import { type AclPlan, applyAclPlan, planAcls, type TopicAccessConfig } from './acl-plan.ts';
import { operationError } from './client-errors.ts';
import {
  findCoordinator,
  groupLag,
  type OffsetResetTarget,
  resetGroupOffsets,
  topicOffsets,
} from './group-admin.ts';
import { createKafkaConsumer, type KafkaConsumer, type KafkaConsumerContext } from './kafka-consumer.ts';
import { type KafkaTransportOptions, parseKafkaOptions } from './kafka-options.ts';
import { createPartitionLookup, partitionRange } from './partition-lookup.ts';
import { partitionSizes } from './partition-sizes.ts';
import { CLIENT_RETRY_DELAY_MS, createProducerSession, prepareWrites } from './producer-session.ts';
import { createRangeReader } from './range-reader.ts';
import { deleteTopics, describeTopicConfig, ensureTopics, listTopics } from './topic-admin.ts';
import { applyTopicPlan, planTopics, type TopicPlan } from './topic-plan.ts';
import { createTransactionQueue, runAgainBeforeCommit } from './transaction-queue.ts';
import { createTransactionalProducer, isCurableTransactionError } from './transactional-producer.ts';

export type { OffsetResetTarget } from './group-admin.ts';

/** The Kafka transport: the port, plus the Kafka-only administration Keel's CLI and operators use. */
export interface KafkaTransport extends Transport {
  /** The bootstrap servers it connects to. */
  readonly brokers: readonly string[];
  /** What bringing these topics to their definitions would change (and what Kafka cannot change); changes nothing. */
  planTopics(definitions: readonly TopicConfig[]): Promise<TopicPlan>;
  /** Applies a plan from `planTopics`; refused as a whole (TopicChangeRefusedError) when it has refusals. Idempotent. */
  applyTopics(plan: TopicPlan): Promise<void>;
  /** What making these the defined topics' ACLs would change; changes nothing. */
  planAcls(definitions: readonly TopicAccessConfig[]): Promise<AclPlan>;
  /** Creates and deletes the ACLs of a plan from `planAcls` (the caller must be allowed to ALTER the cluster). */
  applyAcls(plan: AclPlan): Promise<void>;
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

/** The transactional producer behind `appendAtomically` and `appendAndCommit`, and its queue. */
function createTransactions(settings: ReturnType<typeof parseKafkaOptions>, logger: Logger, admin: Admin) {
  const transactional = createTransactionalProducer({
    base: settings.base,
    settings: settings.producer,
    logger,
    admin,
  });
  const transactions = createTransactionQueue({
    run: runAgainBeforeCommit({
      attempt: transactional.attempt,
      deliveryTimeoutMs: settings.producer.deliveryTimeoutMs,
      isCurable: isCurableTransactionError,
      refresh: transactional.refresh,
      logger,
      mapError: (error) => operationError('atomic append', error),
    }),
    logger,
    maxBatchRecords: settings.producer.maxBatchRecords,
    maxBatchBytes: settings.producer.maxBatchBytes,
    mapError: (error) => operationError('atomic append', error),
  });
  return { transactional, transactions };
}

/**
 * Connects the Kafka transport (clients connect lazily, on first use). Its pieces, along the data path:
 * the plain producer and its produce queue (`append`), the transactional producer and its transaction
 * queue (`appendAtomically`), the range reader (`read`), and the admin client (topics, offsets, groups);
 * this function checks the options once, wires the pieces and owns the open/closing/closed lifecycle.
 */
export function createKafkaTransport(options: KafkaTransportOptions): KafkaTransport {
  const settings = parseKafkaOptions(options);
  const { base } = settings;
  const logger = (settings.logger ?? pino({ level: 'silent' })).child({ transport: 'kafka' });

  const admin = new Admin({ ...base, retries: 5, retryDelay: CLIENT_RETRY_DELAY_MS });
  const { producer, queue } = createProducerSession(base, settings.producer, logger);
  const { existingTopic, existingPartition } = createPartitionLookup(producer);
  const reader = createRangeReader(base, settings.consumer);
  const { transactional, transactions } = createTransactions(settings, logger, admin);
  const consumers = new Set<KafkaConsumer>();
  const appendAndCommit: KafkaConsumerContext['appendAndCommit'] = async (writes, offsets) => {
    ensureOpen('appendAndCommit');
    await transactions.enqueue(await prepareWrites(writes, existingPartition), offsets);
  };
  let state: 'open' | 'closing' | 'closed' = 'open';
  let closing: Promise<void> | undefined;

  const ensureOpen = (operation: string): void => {
    if (state === 'closed') throw new TransportClosedError(operation);
  };
  const clients = () => {
    const current = transactional.current();
    return current === undefined
      ? [producer, reader.client, admin]
      : [producer, reader.client, admin, current];
  };
  const closeClients = async (): Promise<void> => {
    await Promise.allSettled(clients().map((client) => client.close()));
  };

  const transport: KafkaTransport = {
    name: 'kafka',
    capabilities,
    brokers: Object.freeze([...options.brokers]),
    ensureTopics: async (configs) => {
      ensureOpen('ensureTopics');
      for (const config of configs) validateTopicConfig(config);
      await ensureTopics(admin, configs);
    },
    describeTopic: async (name) => {
      ensureOpen('describeTopic');
      return describeTopicConfig(admin, name);
    },
    listTopics: async () => {
      ensureOpen('listTopics');
      return listTopics(admin);
    },
    append: async (writes) => {
      // Appends made while consumers close (e.g. from a revoke callback) are still sent.
      ensureOpen('append');
      return queue.enqueue(await prepareWrites(writes, existingPartition));
    },
    appendAtomically: async (writes) => {
      ensureOpen('appendAtomically');
      return transactions.enqueue(await prepareWrites(writes, existingPartition));
    },
    read: async (topic, partition, fromOffset, maxRecords) => {
      ensureOpen('read');
      await existingPartition(topic, partition);
      if (typeof fromOffset !== 'bigint') throw new TypeError('read: fromOffset must be a bigint');
      if (!Number.isInteger(maxRecords) || maxRecords <= 0) return [];
      return reader.read(topic, partition, fromOffset < 0n ? 0n : fromOffset, maxRecords);
    },
    offsets: async (topic) => {
      ensureOpen('offsets');
      return topicOffsets(admin, topic, await existingTopic(topic));
    },
    sizes: async (topic) => {
      ensureOpen('sizes');
      return partitionSizes(admin, topic, await existingTopic(topic));
    },
    consumer: (consumerOptions) => {
      if (state !== 'open') throw new TransportClosedError('consumer');
      const consumer = createKafkaConsumer(
        {
          base,
          defaults: settings.consumer,
          logger,
          findCoordinator: (group) => findCoordinator(admin, group),
          forget: (c) => consumers.delete(c),
          appendAndCommit,
        },
        consumerOptions,
      );
      consumers.add(consumer);
      return consumer;
    },
    groupLag: async (group, topics) => {
      ensureOpen('groupLag');
      return groupLag(admin, group, topics, existingTopic);
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
    planAcls: async (definitions) => {
      ensureOpen('planAcls');
      return planAcls(admin, definitions);
    },
    applyAcls: async (plan) => {
      ensureOpen('applyAcls');
      await applyAclPlan(admin, plan);
    },
    resetGroupOffsets: async (group, topic, to, only) => {
      ensureOpen('resetGroupOffsets');
      const all = partitionRange(await existingTopic(topic));
      const partitions = only === undefined ? all : [...new Set(only)];
      for (const p of partitions) if (!all.includes(p)) throw new UnknownTopicError(topic, p);
      return resetGroupOffsets(admin, group, topic, to, partitions);
    },
    deleteTopics: async (names) => {
      ensureOpen('deleteTopics');
      await deleteTopics(admin, names);
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
      await Promise.allSettled(clients().map((client) => client.connections.close()));
      await closeClients();
    },
    [Symbol.asyncDispose]: () => transport.close(),
  };
  return transport;
}
