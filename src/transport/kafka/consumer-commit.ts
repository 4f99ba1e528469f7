import type { Broker, Consumer as KafkaClientConsumer } from '@platformatic/kafka';
import { NotAssignedError } from '../errors.ts';
import type { OffsetCommit } from '../transport.ts';
import { kafkaErrorNames, operationError } from './client-errors.ts';
import type { MemberState } from './consumer-state.ts';
import { connectionTo, negotiatedApi } from './raw-api.ts';

// Errors of an OffsetCommit that mean this member's generation is over: its partitions may be elsewhere.
const FENCED = ['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS', 'FENCED_INSTANCE_ID'];
const COORDINATOR_MOVED = ['NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_LOAD_IN_PROGRESS'];

/** What a commit needs from its member. */
export interface CommitContext {
  client: KafkaClientConsumer;
  member: MemberState;
  group: string;
  /** The member's id before the coordinator gave it one, for errors. */
  provisionalId: string;
  /** The group's coordinator, looked up afresh. */
  findCoordinator(group: string): Promise<Broker>;
}

interface TopicCommit {
  name: string;
  partitions: { partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number }[];
}

/**
 * Sends an OffsetCommit fenced on the generation the partitions were assigned in: a member that missed a
 * rebalance (its session expired) is refused by the coordinator (NotAssignedError) even if it still
 * believes it holds the partition. Retried a few times when the coordinator moved. The client's own
 * `commit()` is not used: on those errors it rejoins and commits under the new generation.
 */
export async function sendCommit(context: CommitContext, offsets: readonly OffsetCommit[]): Promise<void> {
  const { client, member, group } = context;
  const memberId = member.memberId;
  if (memberId === null) throw new NotAssignedError(group, context.provisionalId, offsets);
  const byTopic = new Map<string, TopicCommit>();
  for (const o of offsets) {
    const entry = byTopic.get(o.topic) ?? { name: o.topic, partitions: [] };
    entry.partitions.push({
      partitionIndex: o.partition,
      committedOffset: o.offset,
      committedLeaderEpoch: -1,
    });
    byTopic.set(o.topic, entry);
  }
  for (let attempt = 0; ; attempt++) {
    try {
      member.coordinator ??= await context.findCoordinator(group);
      const broker = member.coordinator;
      const api = await negotiatedApi<[string, number, string, string | null, unknown[]], unknown>(
        client,
        'OffsetCommit',
      );
      await api.async(await connectionTo(client, broker), group, member.generation, memberId, null, [
        ...byTopic.values(),
      ]);
      return;
    } catch (error) {
      const names = kafkaErrorNames(error);
      if (names.some((name) => FENCED.includes(name))) throw new NotAssignedError(group, memberId, offsets);
      const retriable =
        names.some((name) => COORDINATOR_MOVED.includes(name)) ||
        (names.length === 0 && (error as { code?: string }).code === 'PLT_KFK_NETWORK');
      if (!retriable || attempt >= 5 || member.phase === 'closed') throw operationError('commit', error);
      member.coordinator = undefined;
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    }
  }
}
