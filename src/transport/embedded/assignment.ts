import { coPartitionedAssignment } from '../co-partitioned-assignment.ts';

/** A group member as the assignment sees it. */
export interface AssignableMember {
  memberId: string;
  /** Topics the member subscribes to. */
  topics: readonly string[];
}

/**
 * Which member should hold each partition: a pure function of the live members and the topics'
 * partition counts, so every member computes the same answer without talking to the others.
 * Topics are taken most constrained first (fewest subscribers, then by name), their partitions in
 * order, and each partition goes to the subscribed member holding the fewest so far, ties broken
 * by member id: round-robin when every member subscribes to the same topics, and still balanced
 * when subscriptions differ (`coPartitioned`: see `coPartitionedAssignment`). Returns `topic\0partition` → member id.
 */
export function assignPartitions(
  members: readonly AssignableMember[],
  partitionCounts: ReadonlyMap<string, number>,
  coPartitioned = false,
): Map<string, string> {
  if (coPartitioned) {
    const owners = coPartitionedAssignment(members, partitionCounts);
    return new Map(owners.map(([topic, partition, member]) => [partitionKey(topic, partition), member]));
  }
  const sorted = [...members].sort((a, b) => compare(a.memberId, b.memberId));
  const load = new Map(sorted.map((member) => [member.memberId, 0]));
  const assignment = new Map<string, string>();
  const topics = [...partitionCounts.keys()]
    .map((topic) => ({ topic, candidates: sorted.filter((member) => member.topics.includes(topic)) }))
    .sort((a, b) => a.candidates.length - b.candidates.length || compare(a.topic, b.topic));
  for (const { topic, candidates } of topics) {
    if (candidates.length === 0) continue;
    const partitions = partitionCounts.get(topic) ?? 0;
    for (let partition = 0; partition < partitions; partition++) {
      let chosen = candidates[0]!;
      for (const candidate of candidates) {
        if ((load.get(candidate.memberId) ?? 0) < (load.get(chosen.memberId) ?? 0)) chosen = candidate;
      }
      load.set(chosen.memberId, (load.get(chosen.memberId) ?? 0) + 1);
      assignment.set(partitionKey(topic, partition), chosen.memberId);
    }
  }
  return assignment;
}

/** Map key of a topic partition. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

// Code-unit order, not locale order: every process must sort the same way.
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
