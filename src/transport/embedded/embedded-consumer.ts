import { randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import { ConsumerBusyError, NotAssignedError, TransportClosedError } from '../errors.ts';
import { runRebalanceCallback } from '../rebalance-callback.ts';
import type { Consumer, ConsumerOptions, OffsetCommit, StoredRecord, TopicPartition } from '../transport.ts';
import { assignPartitions, partitionKey } from './assignment.ts';
import type { ChangeWatcher } from './change-watcher.ts';
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
}

/** A consumer of the embedded transport; `abandon` is what its transport's `abort` uses. */
export interface EmbeddedConsumer extends Consumer {
  /** Stops timers and forgets the consumer without touching the database, like a killed process. */
  abandon(): void;
}

interface Holding {
  topic: string;
  topicId: number;
  partition: number;
  /** Acquisition number of this ownership; commits are fenced on it. */
  epoch: number;
  /** Next offset to return; starts at the committed offset when the partition is acquired. */
  position: bigint;
  /** Being handed to another member: no more records are returned from it. */
  revoking: boolean;
}

interface SyncOutcome {
  lost: Holding[];
  release: Holding[];
  acquired: Holding[];
  generation: number;
  changedGroup: boolean;
}

type State = 'new' | 'joined' | 'closing' | 'closed';

/** Creates a group member; it joins on its first poll. */
export function createEmbeddedConsumer(context: ConsumerContext, options: ConsumerOptions): EmbeddedConsumer {
  const { db, groups, reads, watcher, logger } = context;
  const group = options.group;
  if (typeof group !== 'string' || group.length === 0)
    throw new TypeError('consumer: group must be a non-empty string');
  if (!Array.isArray(options.topics) || options.topics.length === 0) {
    throw new TypeError('consumer: topics must name at least one topic');
  }
  const topics = [...new Set(options.topics)].sort();
  const topicsJson = JSON.stringify(topics);
  const startFrom = options.startFrom ?? 'earliest';
  const maxRecords = positiveInteger('maxRecords', options.maxRecords ?? 500);
  const sessionTimeoutMs = positiveInteger('sessionTimeoutMs', options.sessionTimeoutMs ?? 10_000);
  const heartbeatIntervalMs = positiveInteger(
    'heartbeatIntervalMs',
    options.heartbeatIntervalMs ?? Math.max(1, Math.floor(sessionTimeoutMs / 3)),
  );
  if (heartbeatIntervalMs >= sessionTimeoutMs) {
    throw new TypeError(
      `consumer: heartbeatIntervalMs (${heartbeatIntervalMs}) must be below sessionTimeoutMs (${sessionTimeoutMs})`,
    );
  }
  const memberId = randomUUID();
  const log = logger.child({ group, memberId });

  const holdings = new Map<string, Holding>();
  const paused = new Set<string>();
  let state: State = 'new';
  let seenGeneration: number | undefined;
  let seenTopicId = -1;
  // Set when a subscribed topic (of any member) was missing at the last sync: its creation may move partitions.
  let waitingForTopics = false;
  let expelled = false;
  let heartbeatTimer: NodeJS.Timeout | undefined;
  let polling: Promise<unknown> | undefined;
  let closing: Promise<void> | undefined;
  let fetchRound = 0;

  const list = (held: readonly Holding[]): TopicPartition[] =>
    held.map((h) => ({ topic: h.topic, partition: h.partition }));

  const callback = (name: 'onPartitionsRevoked' | 'onPartitionsAssigned', held: readonly Holding[]) =>
    runRebalanceCallback(options, name, list(held), log, 'embedded');

  // Removes members whose session ran out, so the survivors take their partitions; true if any.
  const expireTransaction = db.transaction((): boolean => {
    const gone = groups.expired(group, Date.now());
    for (const id of gone) groups.removeMember(group, id);
    if (gone.length > 0) groups.bumpGeneration(group);
    return gone.length > 0;
  });

  const heartbeat = (): void => {
    if (state !== 'joined') return;
    try {
      const now = Date.now();
      if (!groups.heartbeat(group, memberId, now)) {
        // Another member found our session expired and took our partitions: rejoin on the next poll.
        expelled = true;
        watcher.wake();
        return;
      }
      if (groups.expired(group, now).length === 0) return;
      if (expireTransaction.immediate()) watcher.notify();
    } catch (error) {
      log.warn({ err: error }, 'embedded consumer: heartbeat failed');
    }
  };

  // Joins or refreshes membership, drops expired members, then takes the unowned partitions the
  // assignment gives us. One write transaction, so two members never both take one partition.
  const syncTransaction = db.transaction((): SyncOutcome => {
    const now = Date.now();
    groups.ensureGroup(group);
    let changedGroup = false;
    if (!groups.touchMember(group, memberId, topicsJson, sessionTimeoutMs, now)) {
      groups.insertMember(group, memberId, topicsJson, sessionTimeoutMs, now);
      changedGroup = true;
    }
    for (const id of groups.expired(group, now)) {
      groups.removeMember(group, id);
      changedGroup = true;
    }
    if (changedGroup) groups.bumpGeneration(group);
    seenTopicId = context.lastTopicId();

    const members = groups.members(group);
    const counts = new Map<string, number>();
    const topicNames = new Map<number, string>();
    waitingForTopics = false;
    for (const member of members) {
      for (const name of member.topics) {
        if (counts.has(name)) continue;
        const row = context.topic(name);
        if (row === undefined) {
          waitingForTopics = true;
          continue;
        }
        counts.set(name, row.partitions);
        topicNames.set(row.id, name);
      }
    }
    const target = assignPartitions(members, counts);
    const owners = new Map<string, { memberId: string; epoch: number }>();
    const release: Holding[] = [];
    for (const owner of groups.owners(group)) {
      const name = topicNames.get(owner.topicId);
      const key =
        name === undefined
          ? `#${owner.topicId}\u0000${owner.partition}`
          : partitionKey(name, owner.partition);
      owners.set(key, owner);
      if (owner.memberId !== memberId) continue;
      const held = holdings.get(key);
      const known = held !== undefined && held.epoch === owner.epoch;
      if (known && target.get(key) !== memberId) release.push(held);
      else if (!known) {
        // An ownership this member does not know about (it cannot normally happen): drop it, and
        // take the partition afresh below if the assignment still gives it to us.
        groups.release(group, owner.topicId, owner.partition, memberId, owner.epoch);
        owners.delete(key);
      }
    }
    const lost: Holding[] = [];
    for (const [key, held] of holdings) {
      const owner = owners.get(key);
      if (owner === undefined || owner.memberId !== memberId || owner.epoch !== held.epoch) lost.push(held);
    }
    const acquired: Holding[] = [];
    for (const [key, owner] of target) {
      if (owner !== memberId || owners.has(key)) continue;
      const separator = key.lastIndexOf('\u0000');
      const topic = key.slice(0, separator);
      const partition = Number(key.slice(separator + 1));
      const row = context.topic(topic);
      if (row === undefined) continue;
      const epoch = groups.takeEpoch(group);
      if (!groups.acquire(group, row.id, partition, memberId, epoch)) continue;
      const committed = groups.committed(group, row.id, partition);
      const bounds = reads.bounds(row.id, partition);
      const position =
        committed ?? (startFrom === 'latest' ? (bounds?.logEnd ?? 0n) : (bounds?.logStart ?? 0n));
      acquired.push({ topic, topicId: row.id, partition, epoch, position, revoking: false });
    }
    return { lost, release, acquired, generation: groups.generation(group) ?? 0, changedGroup };
  });

  const releaseTransaction = db.transaction((held: readonly Holding[]): void => {
    const before = groups.generation(group);
    for (const h of held) groups.release(group, h.topicId, h.partition, memberId, h.epoch);
    const after = groups.bumpGeneration(group);
    // Only skip our own bump: a change by somebody else in between must still be looked at.
    if (before === seenGeneration) seenGeneration = after;
  });

  const sync = async (): Promise<void> => {
    expelled = false;
    const outcome = syncTransaction.immediate();
    seenGeneration = outcome.generation;
    if (outcome.changedGroup) watcher.notify();
    for (const h of outcome.lost) holdings.delete(partitionKey(h.topic, h.partition));
    if (outcome.lost.length > 0) {
      log.warn({ partitions: list(outcome.lost) }, 'embedded consumer: partitions lost (session expired)');
      await callback('onPartitionsRevoked', outcome.lost);
    }
    for (const h of outcome.acquired) holdings.set(partitionKey(h.topic, h.partition), h);
    if (outcome.release.length > 0) {
      for (const h of outcome.release) h.revoking = true;
      // Awaited before the rows go: until then the partitions stay ours and commits are accepted.
      await callback('onPartitionsRevoked', outcome.release);
      if (state === 'closed') return;
      releaseTransaction.immediate(outcome.release);
      for (const h of outcome.release) holdings.delete(partitionKey(h.topic, h.partition));
      watcher.notify();
    }
    if (outcome.acquired.length > 0) await callback('onPartitionsAssigned', outcome.acquired);
    log.debug(
      {
        lost: list(outcome.lost),
        released: list(outcome.release),
        acquired: list(outcome.acquired),
        generation: seenGeneration,
      },
      'embedded consumer: synced with group',
    );
  };

  // Fenced on the epoch of each holding: a member that lost a partition, even one it took back
  // since, cannot commit for it with a position from the old ownership.
  const commitTransaction = db.transaction((commits: readonly OffsetCommit[]): void => {
    const refused: TopicPartition[] = [];
    const accepted: Array<{ topicId: number; partition: number; offset: bigint }> = [];
    for (const commit of commits) {
      const held = holdings.get(partitionKey(commit.topic, commit.partition));
      const owner = held === undefined ? undefined : groups.owner(group, held.topicId, held.partition);
      if (held === undefined || owner?.memberId !== memberId || owner.epoch !== held.epoch) {
        refused.push({ topic: commit.topic, partition: commit.partition });
        continue;
      }
      if (typeof commit.offset !== 'bigint' || commit.offset < 0n) {
        throw new TypeError(`commit: offset for ${commit.topic}[${commit.partition}] must be a bigint ≥ 0`);
      }
      accepted.push({ topicId: held.topicId, partition: held.partition, offset: commit.offset });
    }
    if (refused.length > 0) throw new NotAssignedError(group, memberId, refused);
    const now = Date.now();
    for (const a of accepted) groups.commit(group, a.topicId, a.partition, a.offset, now);
  });

  const leaveTransaction = db.transaction((): void => {
    groups.removeMember(group, memberId);
    groups.bumpGeneration(group);
  });

  const needsSync = (): boolean =>
    expelled ||
    groups.generation(group) !== seenGeneration ||
    (waitingForTopics && context.lastTopicId() !== seenTopicId);

  const fetch = (): StoredRecord[] => {
    const active = [...holdings.entries()]
      .filter(([key, h]) => !h.revoking && !paused.has(key))
      .map(([, h]) => h);
    if (active.length === 0) return [];
    const out: StoredRecord[] = [];
    // Rotate the first partition and cap each one's share so a busy partition cannot starve the rest.
    const start = fetchRound++ % active.length;
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
  };

  const pollLoop = async (maxWaitMs: number): Promise<StoredRecord[]> => {
    if (state === 'new') {
      state = 'joined';
      heartbeatTimer = setInterval(heartbeat, heartbeatIntervalMs);
      heartbeatTimer.unref();
      await sync();
    }
    const deadline = performance.now() + Math.max(0, maxWaitMs);
    for (;;) {
      if (state !== 'joined') return [];
      if (needsSync()) {
        await sync();
        continue;
      }
      const seen = watcher.tick();
      const records = fetch();
      if (records.length > 0) return records;
      const remaining = deadline - performance.now();
      if (remaining <= 0) return [];
      await watcher.wait(seen, remaining);
    }
  };

  const consumer: EmbeddedConsumer = {
    memberId,
    poll: async (maxWaitMs) => {
      if (state === 'closing' || state === 'closed') throw new TransportClosedError('poll');
      if (polling !== undefined) throw new ConsumerBusyError(group, memberId);
      const run = pollLoop(maxWaitMs);
      polling = run;
      try {
        return await run;
      } catch (error) {
        // A consumer abandoned mid-poll (its transport aborted) has nothing more to say.
        if ((state as State) === 'closed') return [];
        throw error;
      } finally {
        polling = undefined;
      }
    },
    commit: async (offsets) => {
      if (state === 'closed') throw new TransportClosedError('commit');
      if (offsets.length === 0) return;
      commitTransaction.immediate(offsets);
    },
    assignment: () =>
      [...holdings.values()]
        .map((h) => ({ topic: h.topic, partition: h.partition }))
        .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1)),
    pause: (partitions) => {
      for (const p of partitions) paused.add(partitionKey(p.topic, p.partition));
    },
    resume: (partitions) => {
      for (const p of partitions) paused.delete(partitionKey(p.topic, p.partition));
      watcher.wake();
    },
    close: () => {
      closing ??= (async () => {
        if (state === 'closed') return;
        const joined = state === 'joined';
        state = 'closing';
        watcher.wake();
        await polling?.catch(() => undefined);
        if (heartbeatTimer !== undefined) clearInterval(heartbeatTimer);
        try {
          if (joined) {
            // Like Kafka: the member gets to finish and commit before its partitions go.
            await callback('onPartitionsRevoked', [...holdings.values()]);
            if (db.open) {
              leaveTransaction.immediate();
              watcher.notify();
            }
          }
        } finally {
          state = 'closed';
          holdings.clear();
          context.forget(consumer);
        }
      })();
      return closing;
    },
    abandon: () => {
      state = 'closed';
      if (heartbeatTimer !== undefined) clearInterval(heartbeatTimer);
      holdings.clear();
      watcher.wake();
      context.forget(consumer);
    },
  };
  return consumer;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new TypeError(`consumer: ${name} must be a positive integer, got ${value}`);
  }
  return value;
}
