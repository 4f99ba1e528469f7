import type { ProduceResult } from '@platformatic/kafka';
import type { Logger } from 'pino';
import type { ProducedMessage } from './record-codec.ts';

/** Messages for one partition, in order, with their sizes (see `recordSize`). */
export interface QueuedWrite {
  topic: string;
  partition: number;
  messages: readonly ProducedMessage[];
  sizes: readonly number[];
}

/** What the queue needs to send one batch: the client's `send`, which makes one produce request per broker. */
export type SendBatch = (messages: ProducedMessage[]) => Promise<ProduceResult>;

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
  /** Milliseconds a message may take from its first send to its acknowledgement, resends included. */
  deliveryTimeoutMs: number;
  /** Whether a failed send may succeed when sent again (a leader moved, a broker was unreachable). */
  isRetryable: (error: unknown) => boolean;
  /** Called before a resend: the client should look the partitions' leaders up again. */
  refresh: () => void;
}

/** Milliseconds to wait before sending again after `resend` earlier resends: 100, doubling up to 1 000. */
export function resendDelayMs(resend: number): number {
  return Math.min(1_000, 100 * 2 ** resend);
}

/**
 * Batching for an idempotent producer the client does not batch: appends queue up, one `send` at a time
 * carries as many as the limits allow, and each append resolves with its own offsets once the send that
 * carried its last message was acknowledged. One send in flight keeps per-partition order without relying
 * on the client's sequencing of concurrent sends (it allows one request per broker anyway), and under load
 * the next batch grows while the current one is in flight, like the embedded transport's group commit.
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
  /** When a send first carried this message (performance.now()), for the delivery timeout. */
  firstSentAt?: number;
}

/** Partitions a failed send still wrote, with their base offsets: the client reports them on the error. */
const writtenBy = (error: unknown): readonly ProducedOffset[] =>
  (error as { produced?: { offsets?: ProducedOffset[] } } | null)?.produced?.offsets ?? [];

type ProducedOffset = NonNullable<ProduceResult['offsets']>[number];

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
 * Resolves the slots of the partitions in `offsets`. The others fail, or with `keepUnacknowledged` are
 * returned (a failed send whose other partitions were written).
 */
function deliver(
  batch: readonly Slot[],
  offsets: readonly ProducedOffset[],
  keepUnacknowledged = false,
): Slot[] {
  const base = new Map<string, bigint>();
  for (const produced of offsets) base.set(`${produced.topic}\u0000${produced.partition}`, produced.offset);
  const next = new Map<string, bigint>();
  const unacknowledged: Slot[] = [];
  for (const slot of batch) {
    const key = `${slot.message.topic}\u0000${slot.message.partition}`;
    const offset = next.get(key) ?? base.get(key);
    if (offset === undefined) {
      if (keepUnacknowledged) unacknowledged.push(slot);
      else fail(slot.waiter, new Error(`the brokers did not acknowledge ${key.replace('\u0000', '[')}]`));
      continue;
    }
    next.set(key, offset + 1n);
    const waiter = slot.waiter;
    if (waiter.settled) continue;
    waiter.offsets[slot.write]![slot.index] = offset;
    if (--waiter.remaining === 0) {
      waiter.settled = true;
      waiter.resolve(waiter.offsets);
    }
  }
  return unacknowledged;
}

/** Puts `slots` back at the head of the backlog, ahead of everything queued since. */
function requeue(backlog: Backlog, slots: readonly Slot[]): void {
  backlog.slots = [...slots, ...backlog.slots.slice(backlog.head)];
  backlog.head = 0;
  for (const slot of slots) backlog.bytes += slot.size;
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
  let resends = 0;
  let resendTimer: NodeJS.Timeout | undefined;
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

  /**
   * After a failed send that may succeed again: puts what it did not write back at the head of the queue,
   * ahead of everything queued since (so each partition keeps its order), and sends it again after a
   * growing pause, with the leaders looked up again. The client groups a send's messages by the leaders it
   * knew when the send began and keeps that grouping through its own retries, so a send caught by a leader
   * change can only succeed as a new send. Returns the pause in milliseconds, or undefined when the send
   * cannot go again (its error says so, or a message of it is past its delivery timeout).
   */
  const resendLater = (batch: readonly Slot[], error: unknown): number | undefined => {
    const now = performance.now();
    const expired = batch.some((slot) => now - (slot.firstSentAt ?? now) >= options.deliveryTimeoutMs);
    if (expired || !options.isRetryable(error) || batch.every((slot) => slot.waiter.settled))
      return undefined;
    const left = deliver(batch, writtenBy(error), true).filter((slot) => !slot.waiter.settled);
    requeue(backlog, left);
    const delay = resendDelayMs(resends++);
    logger.warn(
      { err: mapError(error), records: left.length, inMs: delay, resend: resends },
      'kafka transport: produce request failed; sending again',
    );
    options.refresh();
    return delay;
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
    for (const slot of batch) slot.firstSentAt ??= started;
    let pause = 0;
    inFlight = send(batch.map((slot) => slot.message)).then(
      (result) => {
        logger.trace(
          { records: batch.length, durationMs: performance.now() - started },
          'kafka transport: produce request acknowledged',
        );
        resends = 0;
        deliver(batch, result.offsets ?? []);
      },
      (error: unknown) => {
        const resendIn = resendLater(batch, error);
        if (resendIn !== undefined) {
          pause = resendIn;
          return;
        }
        resends = 0;
        const mapped = mapError(error);
        logger.warn({ err: mapped, records: batch.length }, 'kafka transport: produce request failed');
        for (const slot of batch) fail(slot.waiter, mapped);
        // Appends queued behind a failed send fail with it: a caller that retries the failed records (the
        // Publisher does) would otherwise find later records of the same partitions written first.
        for (let i = backlog.head; i < backlog.slots.length; i++) fail(backlog.slots[i]!.waiter, mapped);
      },
    );
    void inFlight.finally(() => {
      if (pause > 0) {
        // The send that failed stays in flight while it waits, so nothing overtakes it.
        resendTimer = setTimeout(() => {
          resendTimer = undefined;
          inFlight = undefined;
          sendNext();
        }, pause);
        return;
      }
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
      // A failed send waiting to go again is not in flight any more: it fails with the rest.
      if (resendTimer !== undefined) {
        clearTimeout(resendTimer);
        resendTimer = undefined;
        inFlight = undefined;
      }
      failBacklog(backlog, error);
      notifyDrained();
    },
  };
}
