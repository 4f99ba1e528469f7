import { randomUUID } from 'node:crypto';
import { type Broker, FetchIsolationLevels, Consumer as KafkaClientConsumer } from '@platformatic/kafka';
import type { Logger } from 'pino';
import { z } from 'zod';
import { consumerOptionsSchema, parseConsumerOptions } from '../consumer-options.ts';
import { ConsumerBusyError, NotAssignedError, TransportClosedError } from '../errors.ts';
import type {
  Consumer,
  ConsumerOptions,
  OffsetCommit,
  PartitionWrite,
  StoredRecord,
  TopicPartition,
} from '../transport.ts';
import { kafkaErrorNames } from './client-errors.ts';
import { sendCommit } from './consumer-commit.ts';
import { createFetcher } from './consumer-fetcher.ts';
import { createMembership } from './consumer-membership.ts';
import { createMemberState, createWakeups, holdingKey, type MemberState } from './consumer-state.ts';
import type { KafkaClientBaseOptions, ResolvedConsumerDefaults } from './kafka-options.ts';
import { assignCoPartitioned, assignPartitions } from './partition-assigner.ts';
import type { TransactionOffsets } from './transaction-queue.ts';

// Errors of a TxnOffsetCommit that mean this member's generation is over: its partitions may be elsewhere.
const FENCED = ['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS', 'FENCED_INSTANCE_ID'];

const groupError = 'must be a non-empty string without spaces';

/** A member's options on Kafka: group ids without spaces. */
const kafkaConsumerOptionsSchema = consumerOptionsSchema.extend({
  group: z.string({ error: groupError }).regex(/^\S+$/, { error: groupError }),
});

/** What a group member borrows from its transport. */
export interface KafkaConsumerContext {
  base: KafkaClientBaseOptions;
  defaults: ResolvedConsumerDefaults;
  logger: Logger;
  /** The group's coordinator, looked up afresh (the member's own client caches it past a move). */
  findCoordinator(group: string): Promise<Broker>;
  /** Called once the member has closed, so the transport stops tracking it. */
  forget(consumer: KafkaConsumer): void;
  /** Appends in a transaction that commits the member's offsets too (the coordinator's id is looked up). */
  appendAndCommit(writes: readonly PartitionWrite[], offsets: TransactionOffsets): Promise<void>;
}

/** A group member on Kafka; `abandon` is what the transport's `abort` uses. */
export interface KafkaConsumer extends Consumer {
  /** Drops the member like a killed process: sockets closed, no LeaveGroup, the coordinator expires it. */
  abandon(): Promise<void>;
}

/**
 * Creates a group member (classic protocol, eager rebalancing). Group membership, heartbeats and the
 * JoinGroup/SyncGroup exchange are the client's; fetching, positions, pause and commits are the adapter's,
 * so that a poll returns exactly what the member holds and a commit is fenced on the generation in which
 * the member got its partitions. `onPartitionsRevoked` runs in the client's hook before every JoinGroup
 * (the eager protocol gives up all partitions before rejoining), so the group cannot finish the rebalance
 * — and hand the partitions to anyone — before the callback returned.
 */
export function createKafkaConsumer(context: KafkaConsumerContext, options: ConsumerOptions): KafkaConsumer {
  const { base, defaults } = context;
  // Kafka's default heartbeat: a third of the session timeout capped at 3 s (Java's), not the port's plain third.
  const settings = parseConsumerOptions(
    kafkaConsumerOptionsSchema,
    options,
    (sessionTimeoutMs) =>
      defaults.heartbeatIntervalMs ?? Math.max(1, Math.min(3_000, Math.floor(sessionTimeoutMs / 3))),
  );
  const { group, topics, sessionTimeoutMs, heartbeatIntervalMs } = settings;
  const provisionalId = randomUUID();
  const log = context.logger.child({ group, member: provisionalId });
  const member = createMemberState();
  const { wake, waitForChange } = createWakeups();

  const client = new KafkaClientConsumer({
    ...base,
    clientId: `${base.clientId}-${group}`,
    groupId: group,
    sessionTimeout: sessionTimeoutMs,
    heartbeatInterval: heartbeatIntervalMs,
    rebalanceTimeout: Math.max(defaults.rebalanceTimeoutMs, sessionTimeoutMs),
    autocommit: false,
    maxWaitTime: defaults.fetchMaxWaitMs,
    maxBytesPerPartition: defaults.fetchMaxBytesPerPartition,
    isolationLevel: FetchIsolationLevels.READ_COMMITTED,
    retries: 5,
    retryDelay: 200,
    partitionAssigner: settings.coPartitioned ? assignCoPartitioned : assignPartitions,
    protocolsMetadata: () => membership.beforeJoin(),
  });
  client.topics.trackAll(...topics);
  const { findCoordinator } = context;
  const membership = createMembership({ client, member, options: settings, log, wake, findCoordinator });
  const fetcher = createFetcher({
    client,
    member,
    topics,
    defaults,
    startFrom: settings.startFrom,
    maxRecords: settings.maxRecords,
    log,
    wake,
  });
  const commitContext = { client, member, group, provisionalId, findCoordinator };
  let polling: Promise<unknown> | undefined;
  let closing: Promise<void> | undefined;

  const pollLoop = async (maxWaitMs: number): Promise<StoredRecord[]> => {
    if (member.phase === 'new') member.phase = 'joined';
    const deadline = performance.now() + Math.max(0, maxWaitMs);
    for (;;) {
      if (member.phase !== 'joined') return [];
      if (member.pendingError !== undefined) {
        const error = member.pendingError;
        member.pendingError = undefined;
        throw error;
      }
      if (member.needsJoin) membership.join();
      const records = fetcher.drain();
      // Fetches for the partitions drained empty even while others still hold records: otherwise a
      // partition waits until every buffer is empty, seconds behind a backlog (delayed retries came late).
      void fetcher.kick();
      if (records.length > 0) return records;
      const remaining = deadline - performance.now();
      if (remaining <= 0) return [];
      await waitForChange(member.needsJoin ? Math.min(remaining, 100) : remaining);
    }
  };

  const consumer: KafkaConsumer = {
    get memberId() {
      return member.memberId ?? provisionalId;
    },
    poll: async (maxWaitMs) => {
      if (member.phase === 'closing' || member.phase === 'closed') throw new TransportClosedError('poll');
      if (polling !== undefined) throw new ConsumerBusyError(group, consumer.memberId);
      const run = pollLoop(maxWaitMs);
      polling = run;
      try {
        return await run;
      } finally {
        polling = undefined;
      }
    },
    commit: async (offsets) => {
      if (member.phase === 'closed') throw new TransportClosedError('commit');
      if (offsets.length === 0) return;
      checkHeld(member, group, consumer.memberId, offsets);
      await sendCommit(commitContext, offsets);
    },
    appendAndCommit: async (writes, offsets) => {
      if (member.phase === 'closed') throw new TransportClosedError('appendAndCommit');
      checkHeld(member, group, consumer.memberId, offsets);
      await appendAndCommitFenced(context, member, group, writes, offsets);
    },
    assignment: () =>
      [...member.holdings.values()]
        .map((h) => ({ topic: h.topic, partition: h.partition }))
        .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1)),
    pause: (partitions) => {
      for (const p of partitions) member.paused.add(holdingKey(p.topic, p.partition));
    },
    resume: (partitions) => {
      for (const p of partitions) member.paused.delete(holdingKey(p.topic, p.partition));
      wake();
    },
    close: () => {
      closing ??= (async () => {
        if (member.phase === 'closed') return;
        const joined = member.phase === 'joined';
        member.phase = 'closing';
        wake();
        await polling?.catch(() => undefined);
        try {
          // Like Kafka: the member gets to finish and commit before its partitions go.
          if (joined) await membership.revokeOnClose();
          await client.close().catch((error: unknown) => {
            log.warn(
              { err: error },
              'kafka consumer: leaving the group failed; it expires after the session timeout',
            );
            return client.connections.close();
          });
        } finally {
          member.phase = 'closed';
          member.holdings.clear();
          await fetcher.settled();
          context.forget(consumer);
        }
      })();
      return closing;
    },
    abandon: async () => {
      if (member.phase === 'closed') return;
      member.phase = 'closed';
      member.holdings.clear();
      wake();
      // Closing the pool first drops the sockets; the client then finds no coordinator connection and
      // closes without sending LeaveGroup, as a killed process would.
      await client.connections.close().catch(() => undefined);
      await client.close().catch(() => undefined);
      context.forget(consumer);
    },
  };
  return consumer;
}

/** Refuses offsets of partitions the member does not hold (or not bigint ≥ 0). */
function checkHeld(member: MemberState, group: string, memberId: string, offsets: readonly OffsetCommit[]) {
  const refused: TopicPartition[] = [];
  for (const o of offsets) {
    if (typeof o.offset !== 'bigint' || o.offset < 0n) {
      throw new TypeError(`commit: offset for ${o.topic}[${o.partition}] must be a bigint ≥ 0`);
    }
    if (!member.holdings.has(holdingKey(o.topic, o.partition)))
      refused.push({ topic: o.topic, partition: o.partition });
  }
  if (refused.length > 0) throw new NotAssignedError(group, memberId, refused);
}

/** A transaction with the member's offsets, fenced on its generation: a fenced member gets NotAssignedError. */
async function appendAndCommitFenced(
  context: KafkaConsumerContext,
  member: MemberState,
  group: string,
  writes: readonly PartitionWrite[],
  offsets: readonly OffsetCommit[],
): Promise<void> {
  const memberId = member.memberId;
  if (memberId === null) throw new NotAssignedError(group, 'unassigned', offsets);
  try {
    await context.appendAndCommit(writes, { group, generation: member.generation, memberId, offsets });
  } catch (error) {
    if (kafkaErrorNames(error).some((name) => FENCED.includes(name)))
      throw new NotAssignedError(group, memberId, offsets);
    throw error;
  }
}
