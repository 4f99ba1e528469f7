import type {
  ClusterMetadata,
  ExtendedGroupProtocolSubscription,
  GroupAssignment,
  GroupPartitionsAssignments,
} from '@platformatic/kafka';
import { coPartitionedAssignment } from '../co-partitioned-assignment.ts';

/**
 * The group leader's assignment (eager `roundrobin` protocol): each partition of every topic any member
 * subscribes to goes to the subscribing member holding the fewest so far, ties broken by member id.
 * The client's own round-robin assigner only looks at the leader's topics, which starves members that
 * subscribe to others; this one reads every member's subscription. Topics the metadata lacks are skipped.
 */
export function assignPartitions(
  _leader: string,
  members: Map<string, ExtendedGroupProtocolSubscription>,
  _leaderTopics: Set<string>,
  metadata: ClusterMetadata,
): GroupPartitionsAssignments[] {
  const ids = [...members.keys()].sort(compare);
  const load = new Map(ids.map((id) => [id, 0]));
  const assignments = new Map(ids.map((id) => [id, new Map<string, GroupAssignment>()]));
  const topics = new Map<string, string[]>();
  for (const id of ids) {
    for (const topic of members.get(id)?.topics ?? []) {
      const subscribers = topics.get(topic) ?? [];
      subscribers.push(id);
      topics.set(topic, subscribers);
    }
  }
  // Most constrained topics first, so members with narrow subscriptions get their share.
  const order = [...topics.entries()].sort(([a, sa], [b, sb]) => sa.length - sb.length || compare(a, b));
  for (const [topic, subscribers] of order) {
    const partitions = metadata.topics.get(topic)?.partitionsCount ?? 0;
    for (let partition = 0; partition < partitions; partition++) {
      let chosen = subscribers[0]!;
      for (const id of subscribers) if ((load.get(id) ?? 0) < (load.get(chosen) ?? 0)) chosen = id;
      load.set(chosen, (load.get(chosen) ?? 0) + 1);
      const held = assignments.get(chosen)!;
      const entry = held.get(topic) ?? { topic, partitions: [] };
      entry.partitions.push(partition);
      held.set(topic, entry);
    }
  }
  return ids.map((memberId) => ({ memberId, assignments: assignments.get(memberId)! }));
}

// Code-unit order: every leader must sort the same way.
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The group leader's co-partitioned assignment (`ConsumerOptions.coPartitioned`): partition `i` of every
 * topic the same members subscribe to goes to one member (see `coPartitionedAssignment`).
 */
export function assignCoPartitioned(
  _leader: string,
  members: Map<string, ExtendedGroupProtocolSubscription>,
  _leaderTopics: Set<string>,
  metadata: ClusterMetadata,
): GroupPartitionsAssignments[] {
  const subscribed = [...members].map(([memberId, s]) => ({ memberId, topics: s.topics ?? [] }));
  const counts = new Map<string, number>();
  for (const { topics } of subscribed) {
    for (const topic of topics) {
      const known = metadata.topics.get(topic)?.partitionsCount;
      if (known !== undefined) counts.set(topic, known);
    }
  }
  const assignments = new Map(subscribed.map((m) => [m.memberId, new Map<string, GroupAssignment>()]));
  for (const [topic, partition, memberId] of coPartitionedAssignment(subscribed, counts)) {
    const held = assignments.get(memberId)!;
    const entry = held.get(topic) ?? { topic, partitions: [] };
    entry.partitions.push(partition);
    held.set(topic, entry);
  }
  return [...assignments].map(([memberId, held]) => ({ memberId, assignments: held }));
}
