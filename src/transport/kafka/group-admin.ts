import { type Admin, type Broker, FindCoordinatorKeyTypes, ListOffsetTimestamps } from '@platformatic/kafka';
import { UnknownTopicError } from '../errors.ts';
import { partitionLag } from '../partition-lag.ts';
import type { OffsetCommit, PartitionLag, PartitionOffsets } from '../transport.ts';
import { isUnknownTopic, kafkaErrorNames, operationError } from './client-errors.ts';
import { GroupNotEmptyError } from './errors.ts';
import { partitionRange } from './partition-lookup.ts';

/** Where `resetGroupOffsets` moves a group: the log start, the log end, the first record at or after a time, or an offset. */
export type OffsetResetTarget = 'earliest' | 'latest' | { timestamp: number } | { offset: bigint };

/** The offset of each listed partition at `timestamp` (a time, or ListOffsetTimestamps.EARLIEST/LATEST). */
export async function listOffsets(
  admin: Admin,
  topic: string,
  partitions: readonly number[],
  timestamp: bigint,
): Promise<Map<number, bigint>> {
  try {
    const [listed] = await admin.listOffsets({
      topics: [
        { name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })) },
      ],
    });
    return new Map((listed?.partitions ?? []).map((p) => [p.partitionIndex, p.offset]));
  } catch (error) {
    if (isUnknownTopic(error)) throw new UnknownTopicError(topic);
    throw operationError('list offsets', error);
  }
}

/** Log start and end of each of a topic's `count` partitions. */
export async function topicOffsets(admin: Admin, topic: string, count: number): Promise<PartitionOffsets[]> {
  const partitions = partitionRange(count);
  const [earliest, latest] = await Promise.all([
    listOffsets(admin, topic, partitions, ListOffsetTimestamps.EARLIEST),
    listOffsets(admin, topic, partitions, ListOffsetTimestamps.LATEST),
  ]);
  return partitions.map(
    (partition): PartitionOffsets => ({
      topic,
      partition,
      earliest: earliest.get(partition) ?? 0n,
      latest: latest.get(partition) ?? 0n,
    }),
  );
}

/** The group's coordinator, looked up afresh (a member's own client caches it past a move). */
export async function findCoordinator(admin: Admin, group: string): Promise<Broker> {
  try {
    const [found] = await admin.findCoordinator({ keyType: FindCoordinatorKeyTypes.GROUP, keys: [group] });
    if (found === undefined) throw new Error(`no coordinator for group "${group}"`);
    return { host: found.host, port: found.port };
  } catch (error) {
    throw operationError('find coordinator', error);
  }
}

/** Node id of the group's coordinator (a transaction that commits offsets addresses it by id). */
export async function findCoordinatorId(admin: Admin, group: string): Promise<number> {
  try {
    const [found] = await admin.findCoordinator({ keyType: FindCoordinatorKeyTypes.GROUP, keys: [group] });
    if (found === undefined) throw new Error(`no coordinator for group "${group}"`);
    return found.nodeId;
  } catch (error) {
    throw operationError('find coordinator', error);
  }
}

/** The group's committed offsets on the listed partitions of a topic (partitions never committed are absent). */
export async function committedOffsets(
  admin: Admin,
  group: string,
  topic: string,
  partitions: readonly number[],
): Promise<Map<number, bigint>> {
  try {
    const [listed] = await admin.listConsumerGroupOffsets({
      groups: [{ groupId: group, topics: [{ name: topic, partitionIndexes: [...partitions] }] }],
    });
    const committed = new Map<number, bigint>();
    for (const t of listed?.topics ?? []) {
      if (t.name !== topic) continue;
      for (const p of t.partitions)
        if (p.committedOffset >= 0n) committed.set(p.partitionIndex, p.committedOffset);
    }
    return committed;
  } catch (error) {
    throw operationError('list group offsets', error);
  }
}

/**
 * A group's committed offsets and lag on every partition of its topics, from the coordinator (not the
 * client's `getLag`, which only knows offsets committed through its own streams).
 */
export async function groupLag(
  admin: Admin,
  group: string,
  topics: readonly string[],
  existingTopic: (topic: string) => Promise<number>,
): Promise<PartitionLag[]> {
  const lags: PartitionLag[] = [];
  for (const topic of topics) {
    const partitions = partitionRange(await existingTopic(topic));
    const [earliest, latest, committed] = await Promise.all([
      listOffsets(admin, topic, partitions, ListOffsetTimestamps.EARLIEST),
      listOffsets(admin, topic, partitions, ListOffsetTimestamps.LATEST),
      committedOffsets(admin, group, topic, partitions),
    ]);
    for (const partition of partitions) {
      const offset = committed.get(partition) ?? null;
      lags.push(
        partitionLag(topic, partition, offset, earliest.get(partition) ?? 0n, latest.get(partition) ?? 0n),
      );
    }
  }
  return lags;
}

/**
 * Moves a group's committed offsets on `partitions` of a topic (all of them exist) and returns them; see
 * `KafkaTransport.resetGroupOffsets`.
 */
export async function resetGroupOffsets(
  admin: Admin,
  group: string,
  topic: string,
  to: OffsetResetTarget,
  partitions: readonly number[],
): Promise<OffsetCommit[]> {
  await ensureEmptyGroup(admin, group);
  const target = await resetTarget(admin, topic, to, partitions);
  const offsets = partitions.map((partition) => ({ topic, partition, offset: target(partition) }));
  try {
    await admin.alterConsumerGroupOffsets({
      groupId: group,
      topics: [
        { name: topic, partitionOffsets: offsets.map((o) => ({ partition: o.partition, offset: o.offset })) },
      ],
    });
  } catch (error) {
    // A member joined between the check and the commit: the coordinator refuses commits from outside.
    if (
      kafkaErrorNames(error).some((name) => ['UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS'].includes(name))
    ) {
      throw new GroupNotEmptyError(group, 'active', 1);
    }
    throw operationError('reset group offsets', error);
  }
  return offsets;
}

/** GroupNotEmptyError unless the group has no members: live members would overwrite a reset. */
async function ensureEmptyGroup(admin: Admin, group: string): Promise<void> {
  let described: { state: string; members: Map<string, unknown> } | undefined;
  try {
    described = (await admin.describeGroups({ groups: [group] })).get(group);
  } catch (error) {
    throw operationError('describe group', error);
  }
  const groupState = described?.state ?? 'Dead';
  if ((described?.members.size ?? 0) > 0 || !['Empty', 'Dead'].includes(groupState)) {
    throw new GroupNotEmptyError(group, groupState, described?.members.size ?? 0);
  }
}

/**
 * The offset a reset gives each partition: an offset outside a partition's log is clamped into it; a time
 * after the last record resets to the log end (-1 from ListOffsets), as `kafka-consumer-groups` does.
 */
async function resetTarget(
  admin: Admin,
  topic: string,
  to: OffsetResetTarget,
  partitions: readonly number[],
): Promise<(partition: number) => bigint> {
  const [earliest, latest] = await Promise.all([
    listOffsets(admin, topic, partitions, ListOffsetTimestamps.EARLIEST),
    listOffsets(admin, topic, partitions, ListOffsetTimestamps.LATEST),
  ]);
  if (to === 'earliest') return (p) => earliest.get(p) ?? 0n;
  if (to === 'latest') return (p) => latest.get(p) ?? 0n;
  if ('timestamp' in to) {
    if (!Number.isInteger(to.timestamp) || to.timestamp < 0) {
      throw new TypeError(
        `resetGroupOffsets: timestamp must be milliseconds since the epoch, got ${to.timestamp}`,
      );
    }
    const byTime = await listOffsets(admin, topic, partitions, BigInt(to.timestamp));
    return (p) => {
      const offset = byTime.get(p) ?? -1n;
      return offset < 0n ? (latest.get(p) ?? 0n) : offset;
    };
  }
  if (typeof to.offset !== 'bigint') throw new TypeError('resetGroupOffsets: offset must be a bigint');
  return (p) => {
    const low = earliest.get(p) ?? 0n;
    const high = latest.get(p) ?? 0n;
    return to.offset < low ? low : to.offset > high ? high : to.offset;
  };
}
