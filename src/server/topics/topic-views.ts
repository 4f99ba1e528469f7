import { z } from 'zod';
import type { GroupAdmin } from '../../transport/group-admin.ts';
import type { PartitionOffsets, TopicConfig, Transport } from '../../transport/transport.ts';
import { ResourceNotFoundError } from '../api/errors.ts';

const digits = z.string().regex(/^\d+$/);

/** JSON shape of a topic's configuration. */
export const topicConfigSchema = z.object({
  retentionMs: z
    .int()
    .nullable()
    .describe('Records older than this many milliseconds may be deleted; null keeps them.'),
  retentionBytes: z.int().nullable().describe('Bytes a partition keeps; null is unbounded.'),
  compacted: z.boolean().describe('Only the newest record per key is kept.'),
  replication: z
    .int()
    .nullable()
    .describe('Copies of each partition (null when the transport does not say).'),
});

/** JSON shape of a partition's offsets. */
export const partitionOffsetsSchema = z.object({
  partition: z.int(),
  earliest: digits.describe('Offset of the oldest record still held.'),
  latest: digits.describe('Offset the next record will get (the newest offset + 1).'),
  bytes: z.int().nonnegative().describe('Bytes the partition holds (on Kafka, its largest replica’s log).'),
});

/** JSON shape of one group's lag on a topic. */
export const topicGroupLagSchema = z.object({ group: z.string(), lag: digits });

/** JSON shape of a topic in the list. */
export const topicSummarySchema = z.object({
  name: z.string(),
  partitions: z.int(),
  config: topicConfigSchema,
  messages: digits.describe('Records held (latest − earliest over partitions; compaction gaps count).'),
  bytes: z.int().nonnegative().describe('Bytes the topic holds, over its partitions.'),
  offsets: z.array(partitionOffsetsSchema),
  lag: digits
    .nullable()
    .describe('Total lag of the consumer groups on the topic; null when the transport cannot tell.'),
});

/** JSON shape of one topic. */
export const topicDetailSchema = topicSummarySchema.extend({
  groups: z
    .array(topicGroupLagSchema)
    .nullable()
    .describe('Groups on the topic and their lag; null when unknown.'),
});

/** Which groups read which topics, so lag can be told per topic; undefined when there is no group admin. */
export async function groupsByTopic(
  admin: GroupAdmin | undefined,
): Promise<Map<string, string[]> | undefined> {
  if (admin === undefined) return undefined;
  const byTopic = new Map<string, string[]>();
  for (const [group, topics] of await admin.topicsByGroup()) {
    for (const topic of topics) byTopic.set(topic, [...(byTopic.get(topic) ?? []), group]);
  }
  return byTopic;
}

/** A topic's config, or ResourceNotFoundError naming the request field (default `params.topic`). */
export async function existingTopic(
  transport: Transport,
  name: string,
  field = 'params.topic',
): Promise<TopicConfig> {
  const config = await transport.describeTopic(name);
  if (config === undefined) throw new ResourceNotFoundError('topic', name, field);
  return config;
}

/** The topic as the list and the detail show it. */
export async function topicView(
  transport: Transport,
  config: TopicConfig,
  groups: readonly string[] | undefined,
): Promise<z.input<typeof topicDetailSchema>> {
  const [offsets, sizes] = await Promise.all([transport.offsets(config.name), transport.sizes(config.name)]);
  const bytes = new Map(sizes.map((s) => [s.partition, s.bytes]));
  const lags =
    groups === undefined
      ? null
      : await Promise.all(
          groups.map(async (group) => ({
            group,
            lag: (await transport.groupLag(group, [config.name])).reduce((sum, p) => sum + p.lag, 0n),
          })),
        );
  return {
    name: config.name,
    partitions: config.partitions,
    config: {
      retentionMs: config.retentionMs ?? null,
      retentionBytes: config.retentionBytes ?? null,
      compacted: config.compacted ?? false,
      replication: config.replication ?? null,
    },
    messages: offsets.reduce((sum, p) => sum + (p.latest - p.earliest), 0n).toString(),
    bytes: sizes.reduce((sum, s) => sum + s.bytes, 0),
    offsets: offsets.map((p) => offsetsView(p, bytes.get(p.partition) ?? 0)),
    lag: lags === null ? null : lags.reduce((sum, l) => sum + l.lag, 0n).toString(),
    groups: lags === null ? null : lags.map((l) => ({ group: l.group, lag: l.lag.toString() })),
  };
}

function offsetsView(p: PartitionOffsets, bytes: number): z.input<typeof partitionOffsetsSchema> {
  return { partition: p.partition, earliest: p.earliest.toString(), latest: p.latest.toString(), bytes };
}
