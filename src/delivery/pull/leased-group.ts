import { randomUUID } from 'node:crypto';
import type { Consumer, StoredRecord, TopicPartition, Transport } from '../../transport/transport.ts';

/** A record handed to an HTTP consumer under a lease. */
export interface LeasedRecord {
  /** Acknowledge with this; past `expiresAt` the record goes to the next fetch instead. */
  lease: string;
  record: StoredRecord;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

/** What a fetch asks for. */
export interface FetchOptions {
  maxRecords: number;
  /** Milliseconds to wait for records when none are ready (long poll). */
  waitMs: number;
  leaseMs: number;
  signal: AbortSignal;
}

/** One consumer group served over HTTP: the node is its member, HTTP clients lease its records. */
export interface LeasedGroup {
  readonly topics: readonly string[];
  fetch(options: FetchOptions): Promise<LeasedRecord[]>;
  /** Acknowledges leases; returns those not known (expired and handed on, or never given). */
  ack(leases: readonly string[]): Promise<string[]>;
  close(): Promise<void>;
}

interface Lease {
  record: StoredRecord;
  key: string;
  expiresAt: number;
}

/** Records buffered per group at most before the node stops polling for more. */
const MAX_BUFFERED = 5_000;
const partitionOf = (topic: string, partition: number) => `${topic}/${partition}`;
// Records of one partition key are handed out one lease holder at a time; records without a key carry no order.
const keyOf = (r: StoredRecord) => `${r.topic}/${r.partition}/${r.key ?? `#${r.offset}`}`;

/**
 * Serves one consumer group to HTTP clients. The node joins the group as its member and buffers what it
 * polls; a fetch leases the next records, skipping a partition key while another lease holds it, so each
 * key's records are processed in order by one client at a time. An acknowledged record counts as handled;
 * a lease that expires puts its record back in front of its key for the next fetch. The group's offset on
 * a partition is committed up to the first record not yet acknowledged: at least once, as the Router.
 */
export function createLeasedGroup(
  transport: Transport,
  group: string,
  topics: readonly string[],
): LeasedGroup {
  const queues = new Map<string, StoredRecord[]>();
  const unacked = new Map<string, Set<bigint>>();
  const fetchedUpTo = new Map<string, bigint>();
  const committed = new Map<string, bigint>();
  const leases = new Map<string, Lease>();
  const heldKeys = new Map<string, number>();
  let buffered = 0;
  let polling: Promise<void> | undefined;

  const dropPartitions = async (partitions: readonly TopicPartition[]) => {
    for (const { topic, partition } of partitions) {
      const id = partitionOf(topic, partition);
      buffered -= queues.get(id)?.length ?? 0;
      queues.delete(id);
      unacked.delete(id);
      fetchedUpTo.delete(id);
      committed.delete(id);
      for (const [lease, held] of leases)
        if (partitionOf(held.record.topic, held.record.partition) === id) release(lease, held);
    }
  };
  const consumer: Consumer = transport.consumer({ group, topics, onPartitionsRevoked: dropPartitions });

  const release = (lease: string, held: Lease) => {
    leases.delete(lease);
    const count = (heldKeys.get(held.key) ?? 1) - 1;
    if (count === 0) heldKeys.delete(held.key);
    else heldKeys.set(held.key, count);
  };
  const requeue = (record: StoredRecord) => {
    const id = partitionOf(record.topic, record.partition);
    const queue = queues.get(id) ?? [];
    const at = queue.findIndex((r) => r.offset > record.offset);
    queue.splice(at === -1 ? queue.length : at, 0, record);
    queues.set(id, queue);
    buffered++;
  };
  const expire = (now: number) => {
    for (const [lease, held] of leases) {
      if (held.expiresAt > now) continue;
      release(lease, held);
      requeue(held.record);
    }
  };
  const take = (options: FetchOptions): LeasedRecord[] => {
    const now = Date.now();
    expire(now);
    const taken: LeasedRecord[] = [];
    const takenKeys = new Set<string>();
    for (const [, queue] of queues) {
      const skipped = new Set<string>();
      for (let i = 0; i < queue.length && taken.length < options.maxRecords; ) {
        const record = queue[i] as StoredRecord;
        const key = keyOf(record);
        if (skipped.has(key) || (heldKeys.has(key) && !takenKeys.has(key))) {
          skipped.add(key);
          i++;
          continue;
        }
        queue.splice(i, 1);
        buffered--;
        const lease = randomUUID();
        const expiresAt = now + options.leaseMs;
        leases.set(lease, { record, key, expiresAt });
        heldKeys.set(key, (heldKeys.get(key) ?? 0) + 1);
        takenKeys.add(key);
        taken.push({ lease, record, expiresAt });
      }
    }
    return taken;
  };
  const pollOnce = (waitMs: number): Promise<void> => {
    polling ??= consumer
      .poll(waitMs)
      .then((records) => {
        for (const record of records) {
          const id = partitionOf(record.topic, record.partition);
          if ((fetchedUpTo.get(id) ?? -1n) >= record.offset) continue;
          fetchedUpTo.set(id, record.offset);
          const pending = unacked.get(id) ?? new Set<bigint>();
          pending.add(record.offset);
          unacked.set(id, pending);
          requeue(record);
        }
      })
      .finally(() => {
        polling = undefined;
      });
    return polling;
  };
  const commitAcknowledged = async () => {
    const offsets = [];
    for (const [id, pending] of unacked) {
      const next = pending.size > 0 ? minOf(pending) : (fetchedUpTo.get(id) as bigint) + 1n;
      if (committed.get(id) === next) continue;
      committed.set(id, next);
      const slash = id.lastIndexOf('/');
      offsets.push({ topic: id.slice(0, slash), partition: Number(id.slice(slash + 1)), offset: next });
    }
    if (offsets.length > 0) await consumer.commit(offsets);
  };

  return {
    topics,
    async fetch(options) {
      const deadline = Date.now() + options.waitMs;
      for (;;) {
        const taken = take(options);
        const left = deadline - Date.now();
        if (taken.length > 0 || left <= 0 || options.signal.aborted) return taken;
        if (buffered < MAX_BUFFERED) await pollOnce(Math.min(left, 500));
        else await new Promise((resolve) => setTimeout(resolve, Math.min(left, 50)));
      }
    },
    async ack(given) {
      const unknown: string[] = [];
      for (const lease of given) {
        const held = leases.get(lease);
        if (held === undefined) {
          unknown.push(lease);
          continue;
        }
        release(lease, held);
        unacked.get(partitionOf(held.record.topic, held.record.partition))?.delete(held.record.offset);
      }
      await commitAcknowledged();
      return unknown;
    },
    async close() {
      await polling?.catch(() => {});
      await consumer.close();
    },
  };
}

function minOf(values: Set<bigint>): bigint {
  let least: bigint | undefined;
  for (const value of values) if (least === undefined || value < least) least = value;
  return least as bigint;
}
