import type { Database } from 'better-sqlite3';

/** A live or expired member as stored in `group_members`. */
export interface MemberRow {
  memberId: string;
  /** Topics the member subscribes to. */
  topics: string[];
  sessionTimeoutMs: number;
  /** Milliseconds since the epoch of the member's last heartbeat. */
  heartbeatAt: number;
}

/** Who holds a partition for a group, and since which acquisition (`epoch`). */
export interface OwnerRow {
  topicId: number;
  partition: number;
  memberId: string;
  epoch: number;
}

/** SQL for consumer group membership, partition ownership and committed offsets. */
export interface GroupStatements {
  /** Creates the group's row when missing. */
  ensureGroup(group: string): void;
  /** The group's generation, or undefined before anyone joined. */
  generation(group: string): number | undefined;
  /** Moves the generation so every member looks at the assignment again; returns the new one. */
  bumpGeneration(group: string): number;
  /** A number no earlier acquisition of a partition in this group got. */
  takeEpoch(group: string): number;
  /** Refreshes a member's heartbeat (and subscription); false when the member is not in the group. */
  touchMember(
    group: string,
    memberId: string,
    topics: string,
    sessionTimeoutMs: number,
    now: number,
  ): boolean;
  /** Refreshes only the heartbeat; false when the member is not in the group (it was expelled). */
  heartbeat(group: string, memberId: string, now: number): boolean;
  insertMember(group: string, memberId: string, topics: string, sessionTimeoutMs: number, now: number): void;
  /** Members in member id order. */
  members(group: string): MemberRow[];
  /** Ids of members whose session ran out before `now`. */
  expired(group: string, now: number): string[];
  /** Removes a member and every ownership it had. */
  removeMember(group: string, memberId: string): void;
  owners(group: string): OwnerRow[];
  owner(group: string, topicId: number, partition: number): OwnerRow | undefined;
  /** Takes an unowned partition; false when somebody owns it. */
  acquire(group: string, topicId: number, partition: number, memberId: string, epoch: number): boolean;
  /** Gives up a partition if this member still owns it under this epoch. */
  release(group: string, topicId: number, partition: number, memberId: string, epoch: number): boolean;
  committed(group: string, topicId: number, partition: number): bigint | undefined;
  /** Committed offsets of a group on one topic, by partition. */
  committedForTopic(group: string, topicId: number): Map<number, bigint>;
  commit(group: string, topicId: number, partition: number, offset: bigint, now: number): void;
}

/** Prepares the group statements on one connection. */
export function prepareGroupStatements(db: Database): GroupStatements {
  const ensureGroup = db.prepare('INSERT INTO consumer_groups (group_id) VALUES (?) ON CONFLICT DO NOTHING');
  const generation = db
    .prepare<[string], number>('SELECT generation FROM consumer_groups WHERE group_id = ?')
    .pluck();
  const bump = db
    .prepare<[string], number>(
      'UPDATE consumer_groups SET generation = generation + 1 WHERE group_id = ? RETURNING generation',
    )
    .pluck();
  const takeEpoch = db
    .prepare<[string], number>(
      'UPDATE consumer_groups SET next_epoch = next_epoch + 1 WHERE group_id = ? RETURNING next_epoch - 1',
    )
    .pluck();
  const touchMember = db.prepare(
    `UPDATE group_members SET topics = ?, session_timeout_ms = ?, heartbeat_at = ?
     WHERE group_id = ? AND member_id = ?`,
  );
  const heartbeat = db.prepare(
    'UPDATE group_members SET heartbeat_at = ? WHERE group_id = ? AND member_id = ?',
  );
  const insertMember = db.prepare(
    `INSERT INTO group_members (group_id, member_id, topics, session_timeout_ms, heartbeat_at, joined_at)
     VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const members = db.prepare<
    [string],
    { member_id: string; topics: string; session_timeout_ms: number; heartbeat_at: number }
  >(
    `SELECT member_id, topics, session_timeout_ms, heartbeat_at FROM group_members
     WHERE group_id = ? ORDER BY member_id`,
  );
  const expired = db
    .prepare<[string, number], string>(
      'SELECT member_id FROM group_members WHERE group_id = ? AND heartbeat_at + session_timeout_ms < ?',
    )
    .pluck();
  const deleteMember = db.prepare('DELETE FROM group_members WHERE group_id = ? AND member_id = ?');
  const deleteOwnedBy = db.prepare('DELETE FROM partition_owners WHERE group_id = ? AND member_id = ?');
  const owners = db.prepare<
    [string],
    { topic_id: number; partition_index: number; member_id: string; epoch: number }
  >('SELECT topic_id, partition_index, member_id, epoch FROM partition_owners WHERE group_id = ?');
  const owner = db.prepare<
    [string, number, number],
    { topic_id: number; partition_index: number; member_id: string; epoch: number }
  >(
    `SELECT topic_id, partition_index, member_id, epoch FROM partition_owners
     WHERE group_id = ? AND topic_id = ? AND partition_index = ?`,
  );
  const acquire = db.prepare(
    `INSERT INTO partition_owners (group_id, topic_id, partition_index, member_id, epoch)
     VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  );
  const release = db.prepare(
    `DELETE FROM partition_owners
     WHERE group_id = ? AND topic_id = ? AND partition_index = ? AND member_id = ? AND epoch = ?`,
  );
  const committed = db
    .prepare<[string, number, number], bigint>(
      'SELECT next_offset FROM committed_offsets WHERE group_id = ? AND topic_id = ? AND partition_index = ?',
    )
    .pluck()
    .safeIntegers(true);
  const committedForTopic = db
    .prepare<[string, number], [bigint, bigint]>(
      'SELECT partition_index, next_offset FROM committed_offsets WHERE group_id = ? AND topic_id = ?',
    )
    .raw(true)
    .safeIntegers(true);
  const commit = db.prepare(
    `INSERT INTO committed_offsets (group_id, topic_id, partition_index, next_offset, committed_at)
     VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (group_id, topic_id, partition_index)
     DO UPDATE SET next_offset = excluded.next_offset, committed_at = excluded.committed_at`,
  );
  const toOwner = (raw: { topic_id: number; partition_index: number; member_id: string; epoch: number }) => ({
    topicId: raw.topic_id,
    partition: raw.partition_index,
    memberId: raw.member_id,
    epoch: raw.epoch,
  });
  return {
    ensureGroup: (group) => {
      ensureGroup.run(group);
    },
    generation: (group) => generation.get(group),
    bumpGeneration: (group) => bump.get(group) ?? 0,
    takeEpoch: (group) => takeEpoch.get(group) ?? 0,
    touchMember: (group, memberId, topics, sessionTimeoutMs, now) =>
      touchMember.run(topics, sessionTimeoutMs, now, group, memberId).changes > 0,
    heartbeat: (group, memberId, now) => heartbeat.run(now, group, memberId).changes > 0,
    insertMember: (group, memberId, topics, sessionTimeoutMs, now) => {
      insertMember.run(group, memberId, topics, sessionTimeoutMs, now, now);
    },
    members: (group) =>
      members.all(group).map((raw) => ({
        memberId: raw.member_id,
        topics: JSON.parse(raw.topics) as string[],
        sessionTimeoutMs: raw.session_timeout_ms,
        heartbeatAt: raw.heartbeat_at,
      })),
    expired: (group, now) => expired.all(group, now),
    removeMember: (group, memberId) => {
      deleteOwnedBy.run(group, memberId);
      deleteMember.run(group, memberId);
    },
    owners: (group) => owners.all(group).map(toOwner),
    owner: (group, topicId, partition) => {
      const raw = owner.get(group, topicId, partition);
      return raw === undefined ? undefined : toOwner(raw);
    },
    acquire: (group, topicId, partition, memberId, epoch) =>
      acquire.run(group, topicId, partition, memberId, epoch).changes > 0,
    release: (group, topicId, partition, memberId, epoch) =>
      release.run(group, topicId, partition, memberId, epoch).changes > 0,
    committed: (group, topicId, partition) => committed.get(group, topicId, partition),
    committedForTopic: (group, topicId) =>
      new Map(
        committedForTopic.all(group, topicId).map(([partition, offset]) => [Number(partition), offset]),
      ),
    commit: (group, topicId, partition, offset, now) => {
      commit.run(group, topicId, partition, offset, now);
    },
  };
}
