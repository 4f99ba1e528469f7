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
}

/** Creates the produce queue of one producer. */
export function createProduceQueue(options: ProduceQueueOptions): ProduceQueue {
  const { send, logger, lingerMs, maxBatchRecords, maxBatchBytes, mapError } = options;
  let queue: Slot[] = [];
  let head = 0;
  let queuedBytes = 0;
  let inFlight: Promise<void> | undefined;
  let timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  let drained: Array<() => void> = [];

  const queued = (): number => queue.length - head;

  const fail = (waiter: Waiter, error: unknown): void => {
    if (waiter.settled) return;
    waiter.settled = true;
    waiter.reject(error);
  };

  const take = (): Slot[] => {
    const batch: Slot[] = [];
    let bytes = 0;
    const firstTimestamps = new Map<string, bigint>();
    while (head < queue.length && batch.length < maxBatchRecords) {
      const slot = queue[head]!;
      if (batch.length > 0 && bytes + slot.size > maxBatchBytes) break;
      const partition = `${slot.message.topic}\u0000${slot.message.partition}`;
      const timestamp = slot.message.timestamp ?? 0n;
      const first = firstTimestamps.get(partition);
      if (first === undefined) firstTimestamps.set(partition, timestamp);
      else if (timestamp - first >= MAX_TIMESTAMP_DELTA || first - timestamp >= MAX_TIMESTAMP_DELTA) break;
      head++;
      queuedBytes -= slot.size;
      // An append that already failed loses its remaining messages: they are not written.
      if (slot.waiter.settled) continue;
      batch.push(slot);
      bytes += slot.size;
    }
    if (head > 4096 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
    return batch;
  };

  const deliver = (batch: readonly Slot[], result: ProduceResult): void => {
    const base = new Map<string, bigint>();
    for (const produced of result.offsets ?? [])
      base.set(`${produced.topic}\u0000${produced.partition}`, produced.offset);
    const next = new Map<string, bigint>();
    for (const slot of batch) {
      const key = `${slot.message.topic}\u0000${slot.message.partition}`;
      const offset = next.get(key) ?? base.get(key);
      if (offset === undefined) {
        fail(slot.waiter, new Error(`the brokers did not acknowledge ${key.replace('\u0000', '[')}]`));
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
  };

  const sendNext = (): void => {
    if (timer !== undefined) {
      clearTimeout(timer as NodeJS.Timeout);
      clearImmediate(timer as NodeJS.Immediate);
      timer = undefined;
    }
    if (inFlight !== undefined) return;
    const batch = take();
    if (batch.length === 0) {
      const waiting = drained;
      drained = [];
      for (const done of waiting) done();
      return;
    }
    const started = performance.now();
    inFlight = send(batch.map((slot) => slot.message)).then(
      (result) => {
        logger.trace(
          { records: batch.length, durationMs: performance.now() - started },
          'kafka transport: produce request acknowledged',
        );
        deliver(batch, result);
      },
      (error: unknown) => {
        const mapped = mapError(error);
        logger.warn({ err: mapped, records: batch.length }, 'kafka transport: produce request failed');
        for (const slot of batch) fail(slot.waiter, mapped);
        // Appends queued behind a failed send fail with it: a caller that retries the failed records (the
        // Publisher does) would otherwise find later records of the same partitions written first.
        for (let i = head; i < queue.length; i++) fail(queue[i]!.waiter, mapped);
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
    if (queued() >= maxBatchRecords || queuedBytes >= maxBatchBytes) {
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
        writes.forEach((write, w) => {
          write.messages.forEach((message, index) => {
            const size = write.sizes[index] ?? 0;
            queue.push({ waiter, write: w, index, message, size });
            queuedBytes += size;
            waiter.remaining++;
          });
        });
        if (waiter.remaining === 0) {
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
      if (timer !== undefined) {
        clearTimeout(timer as NodeJS.Timeout);
        clearImmediate(timer as NodeJS.Immediate);
        timer = undefined;
      }
      const rest = queue.slice(head);
      queue = [];
      head = 0;
      queuedBytes = 0;
      for (const slot of rest) fail(slot.waiter, error);
      const waiting = drained;
      drained = [];
      for (const done of waiting) done();
    },
  };
}
