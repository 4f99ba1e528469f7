import type { Logger } from 'pino';
import type { SendOutcome, WrittenPartition } from './idempotent-sender.ts';
import type { ProducedMessage } from './record-codec.ts';

/** Messages for one partition, in order, with their sizes (see `recordSize`). */
export interface QueuedWrite {
  topic: string;
  partition: number;
  messages: readonly ProducedMessage[];
  sizes: readonly number[];
}

/**
 * What the queue needs to send one batch: the idempotent sender's `send`, which sends it again to new
 * leaders as long as that can help, and answers which partitions were written.
 */
export type SendBatch = (messages: ProducedMessage[]) => Promise<SendOutcome>;

/** Settings of the produce queue. */
export interface ProduceQueueOptions {
  send: SendBatch;
  logger: Logger;
  /** Milliseconds the first queued append waits for company when nothing is in flight; 0 is the next turn of the event loop. */
  lingerMs: number;
  /** Most messages in one send. */
  maxBatchRecords: number;
  /** Most bytes (see `recordSize`) in one send; a single larger message goes alone. */
  maxBatchBytes: number;
  /** Wraps a failed send's error for the appends it carried. */
  mapError: (error: unknown) => Error;
}

/**
 * Batching for the idempotent sender: appends queue up, one `send` at a time carries as many as the limits
 * allow, and each append resolves with its own offsets once the send that carried its last message was
 * acknowledged. One send in flight keeps per-partition order and keeps each resend of a batch the newest
 * its partitions' leaders have seen, and under load the next batch grows while the current one is in
 * flight, like the embedded transport's group commit.
 */
export interface ProduceQueue {
  /** Queues the writes; resolves with one offset array per write, in order, when all of them are acknowledged. */
  enqueue(writes: readonly QueuedWrite[]): Promise<bigint[][]>;
  /** Resolves once everything queued so far was sent (or failed). */
  drain(): Promise<void>;
  /** Rejects everything queued and not yet sent with `error`. */
  abandon(error: Error): void;
}

/**
 * Largest timestamp difference (ms, about 24.8 days) between a record and the first of its partition's batch
 * that the client encodes correctly: its zigzag encoding of 64-bit varints shifts by 31 bits instead of 63
 * (@platformatic/dynamic-buffer 0.3), which corrupts larger deltas. A record further apart starts a new send.
 */
export const MAX_TIMESTAMP_DELTA = 2n ** 31n - 1n;

interface Waiter {
  offsets: bigint[][];
  remaining: number;
  settled: boolean;
  resolve: (offsets: bigint[][]) => void;
  reject: (error: unknown) => void;
}

interface Slot {
  waiter: Waiter;
  write: number;
  index: number;
  message: ProducedMessage;
  size: number;
}

/** The queued messages not sent yet: `slots[head …]`, and their bytes. */
interface Backlog {
  slots: Slot[];
  head: number;
  bytes: number;
}

/** Rejects an append unless it already settled. */
function fail(waiter: Waiter, error: unknown): void {
  if (waiter.settled) return;
  waiter.settled = true;
  waiter.reject(error);
}

/**
 * Queues the messages of one append behind `waiter`; false when it has none (the caller resolves it at
 * once).
 */
function queueWrites(backlog: Backlog, writes: readonly QueuedWrite[], waiter: Waiter): boolean {
  writes.forEach((write, w) => {
    write.messages.forEach((message, index) => {
      const size = write.sizes[index] ?? 0;
      backlog.slots.push({ waiter, write: w, index, message, size });
      backlog.bytes += size;
      waiter.remaining++;
    });
  });
  return waiter.remaining > 0;
}

/**
 * Takes the next send's messages off the backlog: up to `maxRecords` and `maxBytes` (a single larger message
 * goes alone), and not past a record too far in time from its partition's first (see MAX_TIMESTAMP_DELTA).
 * Messages of appends that already failed are dropped unwritten.
 */
function takeBatch(backlog: Backlog, maxRecords: number, maxBytes: number): Slot[] {
  const batch: Slot[] = [];
  let bytes = 0;
  const firstTimestamps = new Map<string, bigint>();
  const { slots } = backlog;
  while (backlog.head < slots.length && batch.length < maxRecords) {
    const slot = slots[backlog.head]!;
    if (batch.length > 0 && bytes + slot.size > maxBytes) break;
    const partition = `${slot.message.topic}\u0000${slot.message.partition}`;
    const timestamp = slot.message.timestamp ?? 0n;
    const first = firstTimestamps.get(partition);
    if (first === undefined) firstTimestamps.set(partition, timestamp);
    else if (timestamp - first >= MAX_TIMESTAMP_DELTA || first - timestamp >= MAX_TIMESTAMP_DELTA) break;
    backlog.head++;
    backlog.bytes -= slot.size;
    // An append that already failed loses its remaining messages: they are not written.
    if (slot.waiter.settled) continue;
    batch.push(slot);
    bytes += slot.size;
  }
  if (backlog.head > 4096 && backlog.head * 2 > slots.length) {
    backlog.slots = slots.slice(backlog.head);
    backlog.head = 0;
  }
  return batch;
}

/**
 * Resolves the slots of the partitions `written` (each record its base offset + its place; -1 for all
 * when the brokers did not say where) and returns the others.
 */
function deliver(batch: readonly Slot[], written: readonly WrittenPartition[]): Slot[] {
  const base = new Map<string, bigint>();
  for (const produced of written) base.set(`${produced.topic}\u0000${produced.partition}`, produced.offset);
  const next = new Map<string, bigint>();
  const unwritten: Slot[] = [];
  for (const slot of batch) {
    const key = `${slot.message.topic}\u0000${slot.message.partition}`;
    const offset = next.get(key) ?? base.get(key);
    if (offset === undefined) {
      unwritten.push(slot);
      continue;
    }
    next.set(key, offset < 0n ? offset : offset + 1n);
    const waiter = slot.waiter;
    if (waiter.settled) continue;
    waiter.offsets[slot.write]![slot.index] = offset;
    if (--waiter.remaining === 0) {
      waiter.settled = true;
      waiter.resolve(waiter.offsets);
    }
  }
  return unwritten;
}

/** Rejects every append waiting in the backlog (not yet sent) and empties it. */
function failBacklog(backlog: Backlog, error: unknown): void {
  const rest = backlog.slots.slice(backlog.head);
  backlog.slots = [];
  backlog.head = 0;
  backlog.bytes = 0;
  for (const slot of rest) fail(slot.waiter, error);
}

/** Creates the produce queue of one producer. */
export function createProduceQueue(options: ProduceQueueOptions): ProduceQueue {
  const { send, logger, lingerMs, maxBatchRecords, maxBatchBytes, mapError } = options;
  const backlog: Backlog = { slots: [], head: 0, bytes: 0 };
  let inFlight: Promise<void> | undefined;
  let timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  let drained: Array<() => void> = [];

  const queued = (): number => backlog.slots.length - backlog.head;
  const stopLinger = (): void => {
    if (timer === undefined) return;
    clearTimeout(timer as NodeJS.Timeout);
    clearImmediate(timer as NodeJS.Immediate);
    timer = undefined;
  };
  const notifyDrained = (): void => {
    const waiting = drained;
    drained = [];
    for (const done of waiting) done();
  };

  const sendNext = (): void => {
    stopLinger();
    if (inFlight !== undefined) return;
    const batch = takeBatch(backlog, maxBatchRecords, maxBatchBytes);
    if (batch.length === 0) {
      notifyDrained();
      return;
    }
    const started = performance.now();
    inFlight = send(batch.map((slot) => slot.message)).then(
      ({ written, error }) => {
        const unwritten = deliver(batch, written);
        if (error === undefined && unwritten.length === 0) {
          logger.trace(
            { records: batch.length, durationMs: performance.now() - started },
            'kafka transport: produce request acknowledged',
          );
          return;
        }
        const mapped = mapError(error ?? new Error('the brokers did not acknowledge every partition'));
        logger.warn({ err: mapped, records: unwritten.length }, 'kafka transport: produce request failed');
        for (const slot of unwritten) fail(slot.waiter, mapped);
        // Appends queued behind a failed send fail with it: a caller that retries the failed records (the
        // Publisher does) would otherwise find later records of the same partitions written first.
        for (let i = backlog.head; i < backlog.slots.length; i++) fail(backlog.slots[i]!.waiter, mapped);
      },
      (error: unknown) => {
        const mapped = mapError(error);
        for (const slot of batch) fail(slot.waiter, mapped);
        for (let i = backlog.head; i < backlog.slots.length; i++) fail(backlog.slots[i]!.waiter, mapped);
      },
    );
    void inFlight.finally(() => {
      inFlight = undefined;
      // Whatever queued meanwhile already waited a whole request: send it at once, without lingering.
      sendNext();
    });
  };

  const schedule = (): void => {
    if (inFlight !== undefined) return;
    if (queued() >= maxBatchRecords || backlog.bytes >= maxBatchBytes) {
      sendNext();
      return;
    }
    timer ??= lingerMs === 0 ? setImmediate(sendNext) : setTimeout(sendNext, lingerMs);
  };

  return {
    enqueue: (writes) =>
      new Promise<bigint[][]>((resolve, reject) => {
        const waiter: Waiter = {
          offsets: writes.map((write) => new Array<bigint>(write.messages.length)),
          remaining: 0,
          settled: false,
          resolve,
          reject,
        };
        if (!queueWrites(backlog, writes, waiter)) {
          waiter.settled = true;
          resolve(waiter.offsets);
          return;
        }
        schedule();
      }),
    drain: () =>
      new Promise<void>((resolve) => {
        if (inFlight === undefined && queued() === 0) {
          resolve();
          return;
        }
        drained.push(resolve);
        if (inFlight === undefined) sendNext();
      }),
    abandon: (error) => {
      stopLinger();
      failBacklog(backlog, error);
      notifyDrained();
    },
  };
}
