import { z } from 'zod';
import type { GroupAdmin, GroupInfo } from '../../transport/group-admin.ts';
import type { Transport } from '../../transport/transport.ts';
import { ResourceNotFoundError } from '../api/errors.ts';

const digits = z.string().regex(/^\d+$/);

/** JSON shape of a group's lag on one partition. */
export const partitionLagSchema = z.object({
  topic: z.string(),
  partition: z.int(),
  committed: digits.nullable().describe('Next offset the group reads; null when it never committed.'),
  latest: digits.describe('Offset the next record will get.'),
  lag: digits.describe('Records between the committed offset (or the log start) and the end.'),
});

/** JSON shape of a group in the list. */
export const groupSummarySchema = z.object({
  group: z.string(),
  state: z
    .string()
    .describe('`live`, `empty` (embedded) or the broker state (`Stable`, `Empty`, ... on Kafka).'),
  live: z.boolean().describe('A member is live: offsets cannot be reset.'),
  members: z.int(),
  topics: z.array(z.string()),
  lag: z.object({ total: digits, partitions: z.array(partitionLagSchema) }),
});

/** JSON shape of one group, with its members. */
export const groupDetailSchema = groupSummarySchema.extend({
  memberList: z.array(
    z.object({
      id: z.string(),
      topics: z.array(z.string()),
      assignment: z.array(z.object({ topic: z.string(), partition: z.int() })),
    }),
  ),
});

/** The group, or ResourceNotFoundError naming `params.group`. */
export async function existingGroup(admin: GroupAdmin, group: string): Promise<GroupInfo> {
  const info = await admin.describeGroup(group);
  if (info === undefined) throw new ResourceNotFoundError('consumer group', group, 'params.group');
  return info;
}

/** The group with its lag on every partition of its topics. */
export async function groupView(
  transport: Transport,
  info: GroupInfo,
): Promise<z.input<typeof groupDetailSchema>> {
  const existing = new Set(await transport.listTopics());
  const topics = info.topics.filter((topic) => existing.has(topic));
  const lags = topics.length === 0 ? [] : await transport.groupLag(info.group, topics);
  return {
    group: info.group,
    state: info.state,
    live: info.live,
    members: info.members.length,
    topics: info.topics,
    lag: {
      total: lags.reduce((sum, l) => sum + l.lag, 0n).toString(),
      partitions: lags.map((l) => ({
        topic: l.topic,
        partition: l.partition,
        committed: l.committed === null ? null : l.committed.toString(),
        latest: l.latest.toString(),
        lag: l.lag.toString(),
      })),
    },
    memberList: info.members.map((m) => ({ id: m.id, topics: m.topics, assignment: m.assignment })),
  };
}
