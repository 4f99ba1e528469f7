import { KeelError } from '../../errors/keel-error.ts';
import type { Transport } from '../../transport/transport.ts';
import { createLeasedGroup, type FetchOptions, type LeasedGroup, type LeasedRecord } from './leased-group.ts';

/** A group fetched over HTTP with other topics than it was first fetched with. */
export class PullGroupTopicsError extends KeelError {
  readonly code = 'KEEL_PULL_GROUP_TOPICS';
  readonly group: string;
  constructor(group: string, topics: readonly string[], asked: readonly string[]) {
    super(`group "${group}" consumes ${topics.join(', ')} over HTTP; it was asked for ${asked.join(', ')}`);
    this.group = group;
  }
}

/** A topic named by a fetch that does not exist. */
export class PullTopicNotFoundError extends KeelError {
  readonly code = 'KEEL_PULL_TOPIC_NOT_FOUND';
  readonly topic: string;
  constructor(topic: string) {
    super(`topic "${topic}" does not exist`);
    this.topic = topic;
  }
}

/** Consumer groups served over HTTP by this node (see `createLeasedGroup`). */
export interface PullGroups {
  /** Leases the group's next records on `topics` (the same topics on every fetch of a group). */
  fetch(group: string, topics: readonly string[], options: FetchOptions): Promise<LeasedRecord[]>;
  /** Acknowledges leases of a group; returns those not known. */
  ack(group: string, leases: readonly string[]): Promise<string[]>;
  /** Ends every waiting fetch now (with what it has), and every later one at once: the node is shutting down. */
  interrupt(): void;
  /** Whether `interrupt` was called. */
  interrupted(): boolean;
  close(): Promise<void>;
}

/** Creates the node's HTTP consumer groups; a group's member is created on its first fetch. */
export function createPullGroups(transport: Transport): PullGroups {
  const groups = new Map<string, LeasedGroup>();
  const stopping = new AbortController();
  return {
    async fetch(group, asked, options) {
      const topics = [...new Set(asked)].sort();
      let leased = groups.get(group);
      if (leased === undefined) {
        for (const topic of topics)
          if (!(await transport.describeTopic(topic))) throw new PullTopicNotFoundError(topic);
        leased = groups.get(group) ?? createLeasedGroup(transport, group, topics);
        groups.set(group, leased);
      }
      if (leased.topics.join('\n') !== topics.join('\n'))
        throw new PullGroupTopicsError(group, leased.topics, topics);
      return leased.fetch({ ...options, signal: AbortSignal.any([options.signal, stopping.signal]) });
    },
    async ack(group, leases) {
      const leased = groups.get(group);
      return leased === undefined ? [...leases] : leased.ack(leases);
    },
    interrupt: () => stopping.abort(),
    interrupted: () => stopping.signal.aborted,
    async close() {
      stopping.abort();
      await Promise.all([...groups.values()].map((g) => g.close()));
      groups.clear();
    },
  };
}
