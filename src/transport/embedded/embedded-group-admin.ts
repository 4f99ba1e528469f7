import type { Database } from 'better-sqlite3';
import { type GroupAdmin, type GroupInfo, GroupLiveError } from '../group-admin.ts';
import type { OffsetCommit } from '../transport.ts';
import { openDatabase } from './database.ts';

interface MemberRow {
  member_id: string;
  topics: string;
  heartbeat_at: number;
  session_timeout_ms: number;
}

/**
 * Group administration on the embedded transport's SQLite file, through a connection of its own (the
 * file is shared by processes already). A member is live while its last heartbeat is within its session.
 */
export function createEmbeddedGroupAdmin(options: { path: string; now?: () => number }): GroupAdmin {
  const db: Database = openDatabase({ path: options.path, synchronous: 'full', busyTimeoutMs: 5_000 });
  const now = options.now ?? Date.now;
  const listGroups = db
    .prepare<[], string>(
      `SELECT group_id FROM consumer_groups UNION SELECT group_id FROM committed_offsets ORDER BY 1`,
    )
    .pluck();
  const members = db.prepare<[string], MemberRow>(
    'SELECT member_id, topics, heartbeat_at, session_timeout_ms FROM group_members WHERE group_id = ? ORDER BY member_id',
  );
  const owners = db.prepare<[string], { member_id: string; topic: string; partition_index: number }>(
    `SELECT o.member_id, t.name AS topic, o.partition_index FROM partition_owners o
     JOIN topics t ON t.id = o.topic_id WHERE o.group_id = ? ORDER BY t.name, o.partition_index`,
  );
  const committedTopics = db
    .prepare<[string], string>(
      `SELECT DISTINCT t.name FROM committed_offsets c JOIN topics t ON t.id = c.topic_id WHERE c.group_id = ?`,
    )
    .pluck();
  const groupTopics = db.prepare<[], { group_id: string; topic: string }>(
    `SELECT c.group_id, t.name AS topic FROM committed_offsets c JOIN topics t ON t.id = c.topic_id
     GROUP BY c.group_id, t.name ORDER BY c.group_id, t.name`,
  );
  const topicId = db.prepare<[string], number>('SELECT id FROM topics WHERE name = ?').pluck();
  const commit = db.prepare(
    `INSERT INTO committed_offsets (group_id, topic_id, partition_index, next_offset, committed_at)
     VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (group_id, topic_id, partition_index) DO UPDATE SET next_offset = excluded.next_offset,
       committed_at = excluded.committed_at`,
  );

  const liveMembers = (group: string): MemberRow[] =>
    members.all(group).filter((row) => row.heartbeat_at + row.session_timeout_ms >= now());

  const describe = (group: string): GroupInfo | undefined => {
    if (!listGroups.all().includes(group)) return undefined;
    const live = liveMembers(group);
    const liveIds = new Set(live.map((row) => row.member_id));
    const held = owners.all(group).filter((row) => liveIds.has(row.member_id));
    const subscribed = live.flatMap((row) => JSON.parse(row.topics) as string[]);
    return {
      group,
      state: live.length > 0 ? 'live' : 'empty',
      live: live.length > 0,
      members: live.map((row) => ({
        id: row.member_id,
        topics: JSON.parse(row.topics) as string[],
        assignment: held
          .filter((owner) => owner.member_id === row.member_id)
          .map((owner) => ({ topic: owner.topic, partition: owner.partition_index })),
      })),
      topics: [...new Set([...subscribed, ...committedTopics.all(group)])].sort(),
    };
  };

  // The live check and the commits in one write transaction: a member joining waits for it.
  const commitAll = db.transaction((group: string, offsets: readonly OffsetCommit[]) => {
    const live = liveMembers(group);
    if (live.length > 0) throw new GroupLiveError(group, live.length);
    const at = now();
    for (const { topic, partition, offset } of offsets) {
      const id = topicId.get(topic);
      if (id === undefined) throw new TypeError(`commitOffsets: topic ${topic} does not exist`);
      commit.run(group, id, partition, offset, at);
    }
  });

  return {
    listGroups: async () => listGroups.all(),
    describeGroup: async (group) => describe(group),
    async topicsByGroup() {
      const byGroup = new Map<string, string[]>();
      for (const { group_id, topic } of groupTopics.all())
        byGroup.set(group_id, [...(byGroup.get(group_id) ?? []), topic]);
      // Live members' subscriptions count too (a group that has not committed yet still reads the topic).
      for (const group of listGroups.all()) {
        for (const row of liveMembers(group)) {
          const topics = new Set([...(byGroup.get(group) ?? []), ...(JSON.parse(row.topics) as string[])]);
          byGroup.set(group, [...topics].sort());
        }
      }
      return byGroup;
    },
    async commitOffsets(group, offsets) {
      commitAll.immediate(group, offsets);
    },
    async close() {
      if (db.open) db.close();
    },
  };
}
