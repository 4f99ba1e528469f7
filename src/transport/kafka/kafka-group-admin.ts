import { Admin } from '@platformatic/kafka';
import { type GroupAdmin, type GroupInfo, GroupLiveError } from '../group-admin.ts';
import type { KafkaTransportOptions } from './kafka-options.ts';
import { parseKafkaOptions } from './kafka-options.ts';
import type { KafkaTransport } from './kafka-transport.ts';

/** States in which a Kafka group has no member that could overwrite a reset. */
const IDLE_STATES = ['Empty', 'Dead'];

/**
 * Group administration on Kafka through an admin client of its own (the brokers' group coordinator is
 * the truth: members, their assignment, committed offsets). Commits go through the transport's
 * `resetGroupOffsets`, which refuses a group with members.
 */
export function createKafkaGroupAdmin(
  transport: KafkaTransport,
  connection: KafkaTransportOptions,
): GroupAdmin {
  const admin = new Admin({ ...parseKafkaOptions(connection).base, clientId: 'keel-group-admin' });

  const describe = async (group: string): Promise<GroupInfo | undefined> => {
    const described = (await admin.describeGroups({ groups: [group] })).get(group);
    const [offsets] = await admin.listConsumerGroupOffsets({ groups: [group] });
    const committedTopics = (offsets?.topics ?? []).map((topic) => topic.name);
    const state = described?.state ?? 'Dead';
    if (state === 'Dead' && committedTopics.length === 0) return undefined;
    const members = [...(described?.members.values() ?? [])].map((member) => ({
      id: member.id,
      topics: [...(member.metadata?.topics ?? [])],
      assignment: [...(member.assignments?.entries() ?? [])].flatMap(([topic, assignment]) =>
        [...(assignment.partitions ?? [])].map((partition) => ({ topic, partition: Number(partition) })),
      ),
    }));
    return {
      group,
      state,
      live: members.length > 0 || !IDLE_STATES.includes(state),
      members,
      topics: [...new Set([...committedTopics, ...members.flatMap((member) => member.topics)])].sort(),
    };
  };

  return {
    async listGroups() {
      const groups = await admin.listGroups();
      return [...groups.keys()].sort();
    },
    describeGroup: describe,
    async topicsByGroup() {
      const groups = [...(await admin.listGroups()).keys()];
      const byGroup = new Map<string, string[]>();
      if (groups.length === 0) return byGroup;
      // Committed offsets of every group in one request per coordinator, instead of a describe per group.
      for (const { groupId, topics } of await admin.listConsumerGroupOffsets({ groups })) {
        if (topics.length > 0) byGroup.set(groupId, topics.map((topic) => topic.name).sort());
      }
      return byGroup;
    },
    async commitOffsets(group, offsets) {
      const described = await describe(group);
      if (described?.live) throw new GroupLiveError(group, described.members.length);
      // One reset per distinct offset: the transport's reset takes one target for the partitions listed.
      for (const commit of offsets) {
        await transport.resetGroupOffsets(group, commit.topic, { offset: commit.offset }, [commit.partition]);
      }
    },
    async close() {
      await admin.close();
    },
  };
}
