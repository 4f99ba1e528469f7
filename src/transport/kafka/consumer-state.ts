import type { Broker } from '@platformatic/kafka';
import type { StoredRecord, TopicPartition } from '../transport.ts';

/** A partition a Kafka group member holds: where it reads, and what was fetched but not returned yet. */
export interface Holding {
  topic: string;
  partition: number;
  /** Next offset `poll` returns. */
  position: bigint;
  /** Next offset to fetch; records in [position, fetchOffset) wait in `buffer`. */
  fetchOffset: bigint;
  buffer: StoredRecord[];
  /** False until onPartitionsAssigned finished: no records before that. */
  ready: boolean;
  /** Being taken away: no more records are returned from it. */
  revoking: boolean;
}

/** Where a member is in its life: it joins on its first poll. */
export type MemberPhase = 'new' | 'joined' | 'closing' | 'closed';

/** The state a Kafka group member's pieces (membership, fetcher, commits) share. */
export interface MemberState {
  phase: MemberPhase;
  /** What the member holds, by `holdingKey`. */
  holdings: Map<string, Holding>;
  /** Paused partitions, by `holdingKey`. */
  paused: Set<string>;
  /** Generation under which the current holdings were assigned; commits are fenced on it. */
  generation: number;
  /** Member id the coordinator gave with that generation; null before the first assignment. */
  memberId: string | null;
  /** The group's coordinator, once looked up; dropped when it moved. */
  coordinator: Broker | undefined;
  /** Bumped before every JoinGroup: an assignment still being set up for an older generation is dropped. */
  epoch: number;
  /** The next poll (re)joins the group. */
  needsJoin: boolean;
  /** Time (Date.now()) before which no join is tried again. */
  retryJoinAt: number;
  /** Thrown by the next poll (a failed join or offset lookup). */
  pendingError: unknown;
}

/** A member's state before its first poll. */
export function createMemberState(): MemberState {
  return {
    phase: 'new',
    holdings: new Map(),
    paused: new Set(),
    generation: -1,
    memberId: null,
    coordinator: undefined,
    epoch: 0,
    needsJoin: true,
    retryJoinAt: 0,
    pendingError: undefined,
  };
}

/** Key of a topic's partition in `holdings` and `paused`. */
export function holdingKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** The topic and partition of each holding, for callbacks and logs. */
export function listPartitions(held: readonly Holding[]): TopicPartition[] {
  return held.map((h) => ({ topic: h.topic, partition: h.partition }));
}

/** Wakes a waiting poll when something it waits for changed (records fetched, an assignment, a close). */
export interface Wakeups {
  wake(): void;
  /** Resolves at the next `wake`, or after `ms` milliseconds. */
  waitForChange(ms: number): Promise<void>;
}

/** Creates the wake-ups of one member. */
export function createWakeups(): Wakeups {
  const wakers = new Set<() => void>();
  return {
    wake: () => {
      for (const waker of [...wakers]) waker();
    },
    waitForChange: (ms) =>
      new Promise((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          wakers.delete(done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        wakers.add(done);
      }),
  };
}
