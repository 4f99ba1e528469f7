import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import { NotAssignedError } from '../errors.ts';
import type { OffsetCommit, StartFrom, TopicPartition } from '../transport.ts';
import { assignPartitions, partitionKey } from './assignment.ts';
import type { ChangeWatcher } from './change-watcher.ts';
import type { GroupStatements, MemberRow } from './sql/group-statements.ts';
import type { ReadStatements } from './sql/read-statements.ts';
import type { TopicRow } from './sql/topic-statements.ts';

/** A partition an embedded group member holds. */
export interface Holding {
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

/** What one sync with the group changed for this member. */
export interface SyncOutcome {
  /** Holdings another member took over (this member's session expired). */
  lost: Holding[];
  /** Holdings the assignment gives to another member: to hand over once revoked. */
  release: Holding[];
  /** Partitions newly taken, positioned at their committed offset (or per `startFrom`). */
  acquired: Holding[];
  generation: number;
  /** Whether this sync changed the group's membership (joined, or expired others). */
  changedGroup: boolean;
}

/** Where a member is in its life: it joins on its first poll. */
export type MemberPhase = 'new' | 'joined' | 'closing' | 'closed';

/** The state an embedded member's pieces share. */
export interface EmbeddedMemberState {
  phase: MemberPhase;
  /** What the member holds, by `partitionKey`. */
  holdings: Map<string, Holding>;
  /** Paused partitions, by `partitionKey`. */
  paused: Set<string>;
  /** The group generation of the last sync (or of this member's own release). */
  seenGeneration: number | undefined;
  /** The largest topic id at the last sync. */
  seenTopicId: number;
  /** Set when a subscribed topic (of any member) was missing at the last sync: its creation may move partitions. */
  waitingForTopics: boolean;
  /** Another member found this one's session expired and took its partitions: rejoin on the next poll. */
  expelled: boolean;
}

/** What a member's group transactions need. */
export interface GroupContext {
  db: Database;
  groups: GroupStatements;
  reads: ReadStatements;
  /** Looks a topic up (cached once it exists). */
  topic(name: string): TopicRow | undefined;
  /** Largest topic id: moves when any process creates a topic. */
  lastTopicId(): number;
  group: string;
  memberId: string;
  /** The member's topics, as stored in its row. */
  topicsJson: string;
  sessionTimeoutMs: number;
  startFrom: StartFrom;
  /** Partition `i` of every topic goes to one member (see `ConsumerOptions.coPartitioned`). */
  coPartitioned: boolean;
  member: EmbeddedMemberState;
}

/** A member's write transactions on the group's tables; each runs with `BEGIN IMMEDIATE`. */
export interface GroupTransactions {
  /**
   * Joins or refreshes membership, drops expired members, then takes the unowned partitions the
   * assignment gives this member. One write transaction, so two members never both take one partition.
   */
  sync(): SyncOutcome;
  /** Hands holdings over (after their revoke callback) and bumps the generation. */
  release(held: readonly Holding[]): void;
  /** Commits offsets, fenced on the epoch of each holding (NotAssignedError otherwise). */
  commit(commits: readonly OffsetCommit[]): void;
  /** Runs `write` and commits offsets in one transaction, fenced like `commit`: refused, nothing is written. */
  commitWith(commits: readonly OffsetCommit[], write: () => void): void;
  /** Leaves the group. */
  leave(): void;
  /** Removes members whose session ran out, so the survivors take their partitions; true if any. */
  expire(): boolean;
}

/** Prepares a member's group transactions. */
export function createGroupTransactions(context: GroupContext): GroupTransactions {
  const { db, groups, group, memberId, member } = context;

  const syncTransaction = db.transaction((): SyncOutcome => {
    const changedGroup = joinAndExpire(context, Date.now());
    member.seenTopicId = context.lastTopicId();
    const members = groups.members(group);
    const { counts, topicNames } = subscribedPartitionCounts(context, members);
    const target = assignPartitions(members, counts, context.coPartitioned);
    const { owners, release } = reconcileOwners(context, target, topicNames);
    const lost: Holding[] = [];
    for (const [key, held] of member.holdings) {
      const owner = owners.get(key);
      if (owner === undefined || owner.memberId !== memberId || owner.epoch !== held.epoch) lost.push(held);
    }
    const acquired = acquirePartitions(context, target, owners);
    return { lost, release, acquired, generation: groups.generation(group) ?? 0, changedGroup };
  });

  const releaseTransaction = db.transaction((held: readonly Holding[]): void => {
    const before = groups.generation(group);
    for (const h of held) groups.release(group, h.topicId, h.partition, memberId, h.epoch);
    const after = groups.bumpGeneration(group);
    // Only skip our own bump: a change by somebody else in between must still be looked at.
    if (before === member.seenGeneration) member.seenGeneration = after;
  });

  // Fenced on the epoch of each holding: a member that lost a partition, even one it took back
  // since, cannot commit for it with a position from the old ownership.
  const commitTransaction = db.transaction((commits: readonly OffsetCommit[]): void => {
    const refused: TopicPartition[] = [];
    const accepted: Array<{ topicId: number; partition: number; offset: bigint }> = [];
    for (const commit of commits) {
      const held = member.holdings.get(partitionKey(commit.topic, commit.partition));
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

  // The commit's fencing runs first: a member that lost a partition writes nothing.
  const commitWithTransaction = db.transaction(
    (commits: readonly OffsetCommit[], write: () => void): void => {
      commitTransaction(commits);
      write();
    },
  );

  const leaveTransaction = db.transaction((): void => {
    groups.removeMember(group, memberId);
    groups.bumpGeneration(group);
  });

  const expireTransaction = db.transaction((): boolean => {
    const gone = groups.expired(group, Date.now());
    for (const id of gone) groups.removeMember(group, id);
    if (gone.length > 0) groups.bumpGeneration(group);
    return gone.length > 0;
  });

  return {
    sync: () => syncTransaction.immediate(),
    release: (held) => releaseTransaction.immediate(held),
    commit: (commits) => commitTransaction.immediate(commits),
    commitWith: (commits, write) => commitWithTransaction.immediate(commits, write),
    leave: () => leaveTransaction.immediate(),
    expire: () => expireTransaction.immediate(),
  };
}

/**
 * The member's heartbeat: refreshes its session, notices when it was expelled, and expires the members
 * whose session ran out (so the survivors take their partitions).
 */
export function heartbeat(
  context: GroupContext,
  transactions: GroupTransactions,
  watcher: ChangeWatcher,
  log: Logger,
): void {
  const { groups, group, memberId, member } = context;
  if (member.phase !== 'joined') return;
  try {
    const now = Date.now();
    if (!groups.heartbeat(group, memberId, now)) {
      // Another member found our session expired and took our partitions: rejoin on the next poll.
      member.expelled = true;
      watcher.wake();
      return;
    }
    if (groups.expired(group, now).length === 0) return;
    if (transactions.expire()) watcher.notify();
  } catch (error) {
    log.warn({ err: error }, 'embedded consumer: heartbeat failed');
  }
}

/** Inserts or refreshes this member and removes expired ones; true when the membership changed (generation bumped). */
function joinAndExpire(context: GroupContext, now: number): boolean {
  const { groups, group, memberId, topicsJson, sessionTimeoutMs } = context;
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
  return changedGroup;
}

/** Partition counts of every topic a member subscribes to, and topic names by id; notes missing topics. */
function subscribedPartitionCounts(context: GroupContext, members: readonly MemberRow[]) {
  const counts = new Map<string, number>();
  const topicNames = new Map<number, string>();
  context.member.waitingForTopics = false;
  for (const member of members) {
    for (const name of member.topics) {
      if (counts.has(name)) continue;
      const row = context.topic(name);
      if (row === undefined) {
        context.member.waitingForTopics = true;
        continue;
      }
      counts.set(name, row.partitions);
      topicNames.set(row.id, name);
    }
  }
  return { counts, topicNames };
}

/**
 * The group's partition owners by key, and this member's holdings the assignment now gives to another
 * member (to release). An ownership this member does not know about is dropped.
 */
function reconcileOwners(
  context: GroupContext,
  target: ReadonlyMap<string, string>,
  topicNames: ReadonlyMap<number, string>,
) {
  const { groups, group, memberId, member } = context;
  const owners = new Map<string, { memberId: string; epoch: number }>();
  const release: Holding[] = [];
  for (const owner of groups.owners(group)) {
    const name = topicNames.get(owner.topicId);
    const key =
      name === undefined ? `#${owner.topicId}\u0000${owner.partition}` : partitionKey(name, owner.partition);
    owners.set(key, owner);
    if (owner.memberId !== memberId) continue;
    const held = member.holdings.get(key);
    const known = held !== undefined && held.epoch === owner.epoch;
    if (known && target.get(key) !== memberId) release.push(held);
    else if (!known) {
      // An ownership this member does not know about (it cannot normally happen): drop it, and
      // take the partition afresh below if the assignment still gives it to us.
      groups.release(group, owner.topicId, owner.partition, memberId, owner.epoch);
      owners.delete(key);
    }
  }
  return { owners, release };
}

/** Takes the unowned partitions the assignment gives this member, positioned at their committed offsets. */
function acquirePartitions(
  context: GroupContext,
  target: ReadonlyMap<string, string>,
  owners: ReadonlyMap<string, unknown>,
): Holding[] {
  const { groups, reads, group, memberId, startFrom } = context;
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
  return acquired;
}
