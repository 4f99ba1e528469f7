/** A group member as an assignment sees it: its id and the topics it subscribes to. */
export interface SubscribedMember {
  memberId: string;
  topics: readonly string[];
}

/**
 * Co-partitioned assignment (like Kafka's range assignor): partition `i` of every topic the same members
 * subscribe to goes to one member, so records a group places in the same partition number of several
 * topics (a router's source, retry and dead-letter partitions of one key) meet at one member. Topics are
 * grouped by their subscribers, most constrained first; each partition number goes to the subscriber
 * holding the fewest partitions so far, ties broken by member id. Returns `[topic, partition, member]`.
 */
export function coPartitionedAssignment(
  members: readonly SubscribedMember[],
  partitionCounts: ReadonlyMap<string, number>,
): Array<[string, number, string]> {
  const sorted = [...members].sort((a, b) => compare(a.memberId, b.memberId));
  const load = new Map(sorted.map((member) => [member.memberId, 0]));
  const bySubscribers = new Map<string, { candidates: string[]; topics: string[] }>();
  for (const topic of [...partitionCounts.keys()].sort(compare)) {
    const candidates = sorted.filter((m) => m.topics.includes(topic)).map((m) => m.memberId);
    if (candidates.length === 0) continue;
    const id = candidates.join('\u0000');
    const entry = bySubscribers.get(id) ?? { candidates, topics: [] };
    entry.topics.push(topic);
    bySubscribers.set(id, entry);
  }
  const groups = [...bySubscribers.values()].sort(
    (a, b) => a.candidates.length - b.candidates.length || compare(a.topics[0]!, b.topics[0]!),
  );
  const out: Array<[string, number, string]> = [];
  for (const { candidates, topics } of groups) {
    const widest = Math.max(...topics.map((topic) => partitionCounts.get(topic) ?? 0));
    for (let partition = 0; partition < widest; partition++) {
      const holders = topics.filter((topic) => (partitionCounts.get(topic) ?? 0) > partition);
      let chosen = candidates[0]!;
      for (const id of candidates) if ((load.get(id) ?? 0) < (load.get(chosen) ?? 0)) chosen = id;
      load.set(chosen, (load.get(chosen) ?? 0) + holders.length);
      for (const topic of holders) out.push([topic, partition, chosen]);
    }
  }
  return out;
}

// Code-unit order: every member must sort the same way.
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
