import { randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import { consumerOptionsSchema, parseConsumerOptions } from '../consumer-options.ts';
import { ConsumerBusyError, TransportClosedError } from '../errors.ts';
import { runRebalanceCallback } from '../rebalance-callback.ts';
import type {
  Consumer,
  ConsumerOptions,
  PartitionWrite,
  StoredRecord,
  TopicPartition,
} from '../transport.ts';
import { partitionKey } from './assignment.ts';
import type { ChangeWatcher } from './change-watcher.ts';
import {
  createGroupTransactions,
  type EmbeddedMemberState,
  type GroupContext,
  type GroupTransactions,
  type Holding,
  heartbeat,
  type MemberPhase,
} from './consumer-group.ts';
import type { PartitionBatch } from './group-commit.ts';
import { decodeRecord } from './record-codec.ts';
import type { GroupStatements } from './sql/group-statements.ts';
import type { ReadStatements } from './sql/read-statements.ts';
import type { TopicRow } from './sql/topic-statements.ts';

/** What a consumer borrows from its transport. */
export interface ConsumerContext {
  db: Database;
  groups: GroupStatements;
  reads: ReadStatements;
  /** Looks a topic up (cached once it exists). */
  topic(name: string): TopicRow | undefined;
  /** Largest topic id: moves when any process creates a topic. */
  lastTopicId(): number;
  watcher: ChangeWatcher;
  logger: Logger;
  /** Called once the consumer has closed, so the transport stops tracking it. */
  forget(consumer: EmbeddedConsumer): void;
  /** Checks and encodes writes (throws on an unknown topic or partition), for `appendAndCommit`. */
  prepareWrites(writes: readonly PartitionWrite[]): PartitionBatch[];
  /** Writes prepared batches inside the caller's transaction. */
  writeWithin(batches: readonly PartitionBatch[]): void;
}

/** A consumer of the embedded transport; `abandon` is what its transport's `abort` uses. */
export interface EmbeddedConsumer extends Consumer {
  /** Stops timers and forgets the consumer without touching the database, like a killed process. */
  abandon(): void;
}

const list = (held: readonly Holding[]): TopicPartition[] =>
  held.map((h) => ({ topic: h.topic, partition: h.partition }));

/** Creates a group member; it joins on its first poll. */
export function createEmbeddedConsumer(context: ConsumerContext, options: ConsumerOptions): EmbeddedConsumer {
  const { watcher, logger } = context;
  const settings = parseConsumerOptions(consumerOptionsSchema, options, (sessionTimeoutMs) =>
    Math.max(1, Math.floor(sessionTimeoutMs / 3)),
  );
  const { group, maxRecords } = settings;
  const memberId = randomUUID();
  const log = logger.child({ group, memberId });
  const member: EmbeddedMemberState = {
    phase: 'new',
    holdings: new Map(),
    paused: new Set(),
    seenGeneration: undefined,
    seenTopicId: -1,
    waitingForTopics: false,
    expelled: false,
  };
  const groupContext: GroupContext = {
    ...context,
    group,
    memberId,
    topicsJson: JSON.stringify(settings.topics),
    sessionTimeoutMs: settings.sessionTimeoutMs,
    startFrom: settings.startFrom,
    coPartitioned: settings.coPartitioned,
    member,
  };
  const transactions = createGroupTransactions(groupContext);
  const fetchRound = { next: 0 };
  let heartbeatTimer: NodeJS.Timeout | undefined;
  let polling: Promise<unknown> | undefined;
  let closing: Promise<void> | undefined;

  const callback = (name: 'onPartitionsRevoked' | 'onPartitionsAssigned', held: readonly Holding[]) =>
    runRebalanceCallback(settings, name, list(held), log, 'embedded');

  const sync = () => syncWithGroup(groupContext, watcher, transactions, log, callback);

  const needsSync = (): boolean =>
    member.expelled ||
    context.groups.generation(group) !== member.seenGeneration ||
    (member.waitingForTopics && context.lastTopicId() !== member.seenTopicId);

  const pollLoop = async (maxWaitMs: number): Promise<StoredRecord[]> => {
    if (member.phase === 'new') {
      member.phase = 'joined';
      heartbeatTimer = setInterval(
        () => heartbeat(groupContext, transactions, watcher, log),
        settings.heartbeatIntervalMs,
      );
      heartbeatTimer.unref();
      await sync();
    }
    const deadline = performance.now() + Math.max(0, maxWaitMs);
    for (;;) {
      if (member.phase !== 'joined') return [];
      if (needsSync()) {
        await sync();
        continue;
      }
      const seen = watcher.tick();
      const records = fetchRecords(member, context.reads, maxRecords, fetchRound);
      if (records.length > 0) return records;
      const remaining = deadline - performance.now();
      if (remaining <= 0) return [];
      await watcher.wait(seen, remaining);
    }
  };

  const consumer: EmbeddedConsumer = {
    memberId,
    poll: async (maxWaitMs) => {
      if (member.phase === 'closing' || member.phase === 'closed') throw new TransportClosedError('poll');
      if (polling !== undefined) throw new ConsumerBusyError(group, memberId);
      const run = pollLoop(maxWaitMs);
      polling = run;
      try {
        return await run;
      } catch (error) {
        // A consumer abandoned mid-poll (its transport aborted) has nothing more to say.
        if ((member.phase as MemberPhase) === 'closed') return [];
        throw error;
      } finally {
        polling = undefined;
      }
    },
    commit: async (offsets) => {
      if (member.phase === 'closed') throw new TransportClosedError('commit');
      if (offsets.length === 0) return;
      transactions.commit(offsets);
    },
    appendAndCommit: async (writes, offsets) => {
      if (member.phase === 'closed') throw new TransportClosedError('appendAndCommit');
      const batches = context.prepareWrites(writes);
      transactions.commitWith(offsets, () => context.writeWithin(batches));
      watcher.notify();
    },
    assignment: () =>
      [...member.holdings.values()]
        .map((h) => ({ topic: h.topic, partition: h.partition }))
        .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1)),
    pause: (partitions) => {
      for (const p of partitions) member.paused.add(partitionKey(p.topic, p.partition));
    },
    resume: (partitions) => {
      for (const p of partitions) member.paused.delete(partitionKey(p.topic, p.partition));
      watcher.wake();
    },
    close: () => {
      closing ??= (async () => {
        if (member.phase === 'closed') return;
        const joined = member.phase === 'joined';
        member.phase = 'closing';
        watcher.wake();
        await polling?.catch(() => undefined);
        if (heartbeatTimer !== undefined) clearInterval(heartbeatTimer);
        try {
          if (joined) {
            // Like Kafka: the member gets to finish and commit before its partitions go.
            await callback('onPartitionsRevoked', [...member.holdings.values()]);
            if (context.db.open) {
              transactions.leave();
              watcher.notify();
            }
          }
        } finally {
          member.phase = 'closed';
          member.holdings.clear();
          context.forget(consumer);
        }
      })();
      return closing;
    },
    abandon: () => {
      member.phase = 'closed';
      if (heartbeatTimer !== undefined) clearInterval(heartbeatTimer);
      member.holdings.clear();
      watcher.wake();
      context.forget(consumer);
    },
  };
  return consumer;
}

/**
 * Reads up to `maxRecords` records from the partitions the member holds (not paused or revoking), rotating
 * the first partition each call (`round`) and capping each one's share so a busy partition cannot starve
 * the rest; advances each partition's position.
 */
function fetchRecords(
  member: EmbeddedMemberState,
  reads: ReadStatements,
  maxRecords: number,
  round: { next: number },
): StoredRecord[] {
  const active = [...member.holdings.entries()]
    .filter(([key, h]) => !h.revoking && !member.paused.has(key))
    .map(([, h]) => h);
  if (active.length === 0) return [];
  const out: StoredRecord[] = [];
  // Rotate the first partition and cap each one's share so a busy partition cannot starve the rest.
  const start = round.next++ % active.length;
  const share = Math.max(1, Math.ceil(maxRecords / active.length));
  const full: Holding[] = [];
  const take = (h: Holding, limit: number): number => {
    const rows = reads.range(h.topicId, h.partition, h.position, limit);
    for (const row of rows) out.push(decodeRecord(h.topic, h.partition, row));
    const last = rows.at(-1);
    if (last !== undefined) h.position = last.offset + 1n;
    return rows.length;
  };
  for (let i = 0; i < active.length && out.length < maxRecords; i++) {
    const h = active[(start + i) % active.length]!;
    const limit = Math.min(share, maxRecords - out.length);
    if (take(h, limit) === limit) full.push(h);
  }
  for (const h of full) {
    if (out.length >= maxRecords) break;
    take(h, maxRecords - out.length);
  }
  return out;
}

/** Tells a rebalance callback of a change in what the member holds. */
type RebalanceNotice = (
  name: 'onPartitionsRevoked' | 'onPartitionsAssigned',
  held: readonly Holding[],
) => Promise<void>;

/**
 * Brings the member in line with its group: forgets what it lost, releases what the group moved elsewhere
 * (after its revoke callback), and takes what it was given (then its assign callback).
 */
async function syncWithGroup(
  context: GroupContext,
  watcher: ChangeWatcher,
  transactions: GroupTransactions,
  log: Logger,
  callback: RebalanceNotice,
): Promise<void> {
  const { member } = context;
  member.expelled = false;
  const outcome = transactions.sync();
  member.seenGeneration = outcome.generation;
  if (outcome.changedGroup) watcher.notify();
  for (const h of outcome.lost) member.holdings.delete(partitionKey(h.topic, h.partition));
  if (outcome.lost.length > 0) {
    log.warn({ partitions: list(outcome.lost) }, 'embedded consumer: partitions lost (session expired)');
    await callback('onPartitionsRevoked', outcome.lost);
  }
  for (const h of outcome.acquired) member.holdings.set(partitionKey(h.topic, h.partition), h);
  if (outcome.release.length > 0) {
    for (const h of outcome.release) h.revoking = true;
    // Awaited before the rows go: until then the partitions stay ours and commits are accepted.
    await callback('onPartitionsRevoked', outcome.release);
    if (member.phase === 'closed') return;
    transactions.release(outcome.release);
    for (const h of outcome.release) member.holdings.delete(partitionKey(h.topic, h.partition));
    watcher.notify();
  }
  if (outcome.acquired.length > 0) await callback('onPartitionsAssigned', outcome.acquired);
  log.debug(
    {
      lost: list(outcome.lost),
      released: list(outcome.release),
      acquired: list(outcome.acquired),
      generation: member.seenGeneration,
    },
    'embedded consumer: synced with group',
  );
}
