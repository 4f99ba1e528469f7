import { z } from 'zod';

/** Coalescing of publishes into shared appends (Kafka's `linger.ms` and `batch.size`). */
export interface LingerOptions {
  /** Milliseconds a publish may wait for others to share its append; 0 shares only with those made in the same tick. */
  ms: number;
  /** Events that close a batch at once; default 500. */
  maxEvents?: number;
  /** Bytes (encoded events) that close a batch at once; default 1 MiB. */
  maxBytes?: number;
}

/** Linger options with their defaults. */
export const lingerOptionsSchema = z.strictObject({
  ms: z.number({ error: 'expected milliseconds ≥ 0' }).min(0, { error: 'expected milliseconds ≥ 0' }),
  maxEvents: z.int().min(1).default(500),
  maxBytes: z
    .int()
    .min(1)
    .default(1024 * 1024),
});

/** Something that can be batched: it knows its encoded size. */
export interface Sized {
  /** Encoded size in bytes. */
  size: number;
}

/** What the batcher needs. */
export interface LingerBatcherOptions<Item extends Sized> {
  linger: z.output<typeof lingerOptionsSchema>;
  /** Appends items in one call and resolves with one offset per item, in order. */
  append: (items: readonly Item[]) => Promise<bigint[]>;
  /**
   * Whether a failed shared append should be retried call by call (e.g. one caller's event was refused
   * for itself): true for errors about the input, false for transport outages that would fail every call.
   */
  splitOn: (error: unknown) => boolean;
}

/** Gathers the items of concurrent calls for up to `ms` and appends them together. */
export interface LingerBatcher<Item extends Sized> {
  /** Adds one call's items; resolves with their offsets once the shared append is acknowledged. */
  add(items: readonly Item[]): Promise<bigint[]>;
  /** Appends what is gathered now, without waiting for the linger time. */
  flush(): void;
}

interface Waiter<Item> {
  items: readonly Item[];
  resolve: (offsets: bigint[]) => void;
  reject: (error: unknown) => void;
}

/** Creates a linger batcher: each call still gets its own offsets, or its own error. */
export function createLingerBatcher<Item extends Sized>(
  options: LingerBatcherOptions<Item>,
): LingerBatcher<Item> {
  const { linger, append, splitOn } = options;
  let waiters: Waiter<Item>[] = [];
  let events = 0;
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;

  const sendAlone = (waiter: Waiter<Item>) => {
    append(waiter.items).then(waiter.resolve, waiter.reject);
  };

  const flush = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (waiters.length === 0) return;
    const batch = waiters;
    waiters = [];
    events = 0;
    bytes = 0;
    if (batch.length === 1) return sendAlone(batch[0]!);
    const items = batch.flatMap((waiter) => waiter.items);
    append(items).then(
      (offsets) => {
        let at = 0;
        for (const waiter of batch) {
          waiter.resolve(offsets.slice(at, at + waiter.items.length));
          at += waiter.items.length;
        }
      },
      (error: unknown) => {
        // One caller's bad write must not fail the others that merely shared its append.
        if (splitOn(error)) for (const waiter of batch) sendAlone(waiter);
        else for (const waiter of batch) waiter.reject(error);
      },
    );
  };

  return {
    add: (items) =>
      new Promise<bigint[]>((resolve, reject) => {
        let size = 0;
        for (const item of items) size += item.size;
        // Keep each append within the limits: close the gathered batch first if this call would overflow it.
        if (
          waiters.length > 0 &&
          (events + items.length > linger.maxEvents || bytes + size > linger.maxBytes)
        ) {
          flush();
        }
        waiters.push({ items, resolve, reject });
        events += items.length;
        bytes += size;
        if (events >= linger.maxEvents || bytes >= linger.maxBytes) flush();
        else timer ??= setTimeout(flush, linger.ms);
      }),
    flush,
  };
}
