import type {
  Consumer,
  ConsumerOptions,
  OutgoingRecord,
  StoredRecord,
  TopicPartition,
  Transport,
} from '../transport.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A record with a UTF-8 value (null for a tombstone). */
export function outgoing(
  key: string | null,
  value: string | null,
  extra: { headers?: Record<string, string>; timestamp?: number } = {},
): OutgoingRecord {
  const record: OutgoingRecord = {
    key,
    value: value === null ? null : encoder.encode(value),
    headers: extra.headers ?? {},
  };
  if (extra.timestamp !== undefined) record.timestamp = extra.timestamp;
  return record;
}

/** The record's value as UTF-8 text, or null for a tombstone. */
export function text(record: StoredRecord): string | null {
  return record.value === null ? null : decoder.decode(record.value);
}

/** `topic[partition]`, for maps and messages. */
export function tp(partition: TopicPartition): string {
  return `${partition.topic}[${partition.partition}]`;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Checks `condition` every 10 ms until it holds; fails with `what` after `timeoutMs` milliseconds. */
export async function waitUntil(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(10);
  }
}

/**
 * Polls (in steps of 50 ms) until `done` holds for everything received so far; returns it.
 * Fails after `timeoutMs` milliseconds.
 */
export async function pollUntil(
  consumer: Consumer,
  what: string,
  done: (received: readonly StoredRecord[]) => boolean,
  timeoutMs: number,
): Promise<StoredRecord[]> {
  const received: StoredRecord[] = [];
  const deadline = Date.now() + timeoutMs;
  while (!done(received)) {
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms polling until ${what} (got ${received.length} records)`,
      );
    }
    received.push(...(await consumer.poll(50)));
  }
  return received;
}

/** A group member driven by a poll loop in the background, the way a router drives one. */
export interface Member {
  readonly consumer: Consumer;
  /** Every record returned to this member, in order. */
  readonly records: StoredRecord[];
  /** Errors from poll or commit, for assertions. */
  readonly errors: unknown[];
  /** Stops the loop and closes the consumer (which commits through onPartitionsRevoked). */
  stop(): Promise<void>;
  /** Stops the loop without closing the consumer (for a member whose client crashed). */
  halt(): Promise<void>;
}

/**
 * Starts a member that commits after every batch and, when partitions are revoked, commits what
 * it processed of them before letting go: the pattern that gives exactly-once hand-overs.
 */
export function startMember(transport: Transport, options: ConsumerOptions): Member {
  const records: StoredRecord[] = [];
  const errors: unknown[] = [];
  const processed = new Map<string, { topic: string; partition: number; offset: bigint }>();
  let running = true;
  const consumer = transport.consumer({
    ...options,
    onPartitionsRevoked: async (partitions) => {
      await options.onPartitionsRevoked?.(partitions);
      const offsets = partitions.flatMap((p) => {
        const done = processed.get(tp(p));
        return done === undefined ? [] : [done];
      });
      try {
        await consumer.commit(offsets);
      } catch (error) {
        errors.push(error);
      }
    },
  });
  const loop = (async () => {
    while (running) {
      let batch: StoredRecord[];
      try {
        batch = await consumer.poll(25);
      } catch (error) {
        if (running) errors.push(error);
        return;
      }
      const commits = new Map<string, { topic: string; partition: number; offset: bigint }>();
      for (const record of batch) {
        records.push(record);
        const next = { topic: record.topic, partition: record.partition, offset: record.offset + 1n };
        processed.set(tp(record), next);
        commits.set(tp(record), next);
      }
      if (commits.size === 0) continue;
      try {
        await consumer.commit([...commits.values()]);
      } catch (error) {
        errors.push(error);
      }
    }
  })();
  const halt = async (): Promise<void> => {
    running = false;
    await loop;
  };
  return {
    consumer,
    records,
    errors,
    halt,
    stop: async () => {
      await halt();
      await consumer.close();
    },
  };
}

/** Keys of `records` that occur more than once (`topic[partition]@offset`). */
export function duplicates(records: readonly StoredRecord[]): string[] {
  const seen = new Set<string>();
  const twice: string[] = [];
  for (const record of records) {
    const id = `${tp(record)}@${record.offset}`;
    if (seen.has(id)) twice.push(id);
    seen.add(id);
  }
  return twice;
}
