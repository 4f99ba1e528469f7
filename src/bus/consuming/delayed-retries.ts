import type { Consumer, StoredRecord } from '../../transport/transport.ts';
import { failureOf } from '../dead-letter/failure-headers.ts';
import { partitionId, partitionOfId } from './partition-id.ts';

/**
 * Holds records fetched from delayed-retry topics until they are due: per partition, in order; the
 * partition is paused while its head waits, so nothing behind it is fetched meanwhile.
 */
export interface DelayedRetries {
  /** Whether records of `topic` wait for their due time here. */
  holds(topic: string): boolean;
  /** Takes a record of a retry topic: dispatched at once when due, else when its due time comes. */
  add(record: StoredRecord, member: Consumer): void;
  /** Whether a partition has records waiting (it stays paused until the first is due). */
  isWaiting(topic: string, partition: number): boolean;
  /** Records fetched and waiting for their due time. */
  waiting(): number;
  /** Drops what waits in partitions taken from this member (their new owner fetches them again). */
  drop(ids: Iterable<string>): void;
  /** Drops everything and cancels the timers (on close). */
  clear(): void;
}

/** What the scheduler needs. */
export interface DelayedRetriesOptions {
  /** The group's delayed-retry topics. */
  topics: Iterable<string>;
  /** Handles a record once it is due. */
  dispatch: (record: StoredRecord) => void;
  /** False once the router is closing: nothing more is dispatched. */
  isRunning: () => boolean;
  /** True while the router is paused: a partition emptied here stays paused. */
  isPaused: () => boolean;
}

interface Waiting {
  records: StoredRecord[];
  timer?: NodeJS.Timeout;
}

const dueAt = (record: StoredRecord) => failureOf(record)?.dueAt ?? 0;

/** Creates the delayed-retry scheduler of a router. */
export function createDelayedRetries(options: DelayedRetriesOptions): DelayedRetries {
  const topics = new Set(options.topics);
  const queues = new Map<string, Waiting>();

  /** Dispatches the due records at the head of a partition; pauses it until the next one is due. */
  const releaseDue = (id: string, member: Consumer) => {
    const queue = queues.get(id);
    if (!queue || !options.isRunning()) return;
    if (queue.timer) clearTimeout(queue.timer);
    queue.timer = undefined;
    const now = Date.now();
    while (queue.records.length > 0 && dueAt(queue.records[0]!) <= now) {
      options.dispatch(queue.records.shift()!);
    }
    const head = queue.records[0];
    const tp = partitionOfId(id);
    if (head) {
      member.pause([tp]);
      queue.timer = setTimeout(() => releaseDue(id, member), (failureOf(head)?.dueAt ?? now) - now);
    } else {
      queues.delete(id);
      if (!options.isPaused()) member.resume([tp]);
    }
  };

  return {
    holds: (topic) => topics.has(topic),
    add(record, member) {
      const id = partitionId(record.topic, record.partition);
      const queue = queues.get(id) ?? { records: [] };
      queues.set(id, queue);
      queue.records.push(record);
      if (queue.records.length === 1) releaseDue(id, member);
    },
    isWaiting: (topic, partition) => queues.has(partitionId(topic, partition)),
    waiting: () => [...queues.values()].reduce((sum, queue) => sum + queue.records.length, 0),
    drop(ids) {
      for (const id of ids) {
        const queue = queues.get(id);
        if (queue?.timer) clearTimeout(queue.timer);
        queues.delete(id);
      }
    },
    clear() {
      for (const queue of queues.values()) if (queue.timer) clearTimeout(queue.timer);
      queues.clear();
    },
  };
}
