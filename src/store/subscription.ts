import { ExponentialBackoff, type IBackoff } from 'cockatiel';
import type { ReadAllOptions, ReadAllPage, SubscribeOptions, Subscription } from './event-store.ts';

/** Waits up to `ms` milliseconds, or less when the store learns of a new append or `signal` aborts. */
export type WaitForAppends = (ms: number, signal: AbortSignal) => Promise<void>;

/** Default milliseconds before a subscription's first read retry. */
export const DEFAULT_RETRY_INITIAL_DELAY_MS = 100;
/** Default longest wait between a subscription's read retries, in milliseconds. */
export const DEFAULT_RETRY_MAX_DELAY_MS = 5_000;

const NOT_RETRYABLE = new Set(['KEEL_STORE_INVALID_CHECKPOINT', 'KEEL_STORE_CLOSED', 'KEEL_STORE_SCHEMA']);

/** True for read errors a later attempt could cure (connection lost, server restarting, lock timeout). */
export function isRetryableReadError(error: unknown): boolean {
  if (error instanceof TypeError || error instanceof RangeError) return false;
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code !== 'string' || !NOT_RETRYABLE.has(code);
}

/**
 * A catch-up subscription as a loop over `readAll`: read a page after the checkpoint, hand each event to
 * the handler in order, and wait for appends once caught up. Correctness (no skipped event) is readAll's:
 * the loop only ever resumes from a page's `next`. While the handler works through a full page the next
 * one is already being read, so the database and the handler overlap. A failed read is retried with
 * exponential backoff and jitter (cockatiel), so a server restart pauses the subscription instead of
 * ending it; a handler's error ends it.
 */
export function startSubscription(
  readAll: (options: ReadAllOptions) => Promise<ReadAllPage>,
  headCheckpoint: () => Promise<string | undefined>,
  waitForAppends: WaitForAppends,
  options: SubscribeOptions,
): Subscription {
  const {
    handler,
    after,
    startFrom = 'earliest',
    batchSize = 500,
    pollIntervalMs = 100,
    retry = {},
    onReadError,
    ...filter
  } = options;
  if (typeof handler !== 'function') throw new TypeError('subscribe: handler must be a function');
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new TypeError(`subscribe: batchSize must be an integer ≥ 1, got ${batchSize}`);
  }
  if (!Number.isFinite(pollIntervalMs) || pollIntervalMs < 0) {
    throw new TypeError(`subscribe: pollIntervalMs must be a number ≥ 0, got ${pollIntervalMs}`);
  }
  if (startFrom !== 'earliest' && startFrom !== 'latest') {
    throw new TypeError(`subscribe: startFrom must be 'earliest' or 'latest', got ${String(startFrom)}`);
  }
  const maxAttempts = retry.maxAttempts ?? Number.POSITIVE_INFINITY;
  const backoff = new ExponentialBackoff({
    initialDelay: retry.initialDelayMs ?? DEFAULT_RETRY_INITIAL_DELAY_MS,
    maxDelay: retry.maxDelayMs ?? DEFAULT_RETRY_MAX_DELAY_MS,
  });
  const stopping = new AbortController();
  let checkpoint = after;

  /** Runs `read` until it succeeds, a non-retryable error, too many attempts, or stop (undefined). */
  const withRetries = async <T>(read: () => Promise<T>): Promise<T | undefined> => {
    let delay: IBackoff<unknown> | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        return await read();
      } catch (error) {
        if (stopping.signal.aborted) return undefined;
        if (!isRetryableReadError(error) || attempt >= maxAttempts) throw error;
        onReadError?.(error, attempt);
        delay = delay === undefined ? backoff.next() : delay.next(undefined);
        await sleepUnlessAborted(delay.duration, stopping.signal);
        if (stopping.signal.aborted) return undefined;
      }
    }
  };

  const read = (from: string | undefined) => readAll({ ...filter, after: from, maxCount: batchSize });

  const loop = async (): Promise<void> => {
    if (checkpoint === undefined && startFrom === 'latest') {
      checkpoint = await withRetries(headCheckpoint);
      if (stopping.signal.aborted) return;
    }
    let prefetched: Promise<ReadAllPage> | undefined;
    while (!stopping.signal.aborted) {
      const from = checkpoint;
      let pending = prefetched;
      prefetched = undefined;
      // A prefetched read that failed is read again like any other, under the retry policy.
      const page = await withRetries(() => {
        const attempt = pending ?? read(from);
        pending = undefined;
        return attempt;
      });
      if (page === undefined) return;
      if (page.hasMore && page.next !== undefined) {
        prefetched = read(page.next);
        // Observed here so a read abandoned by a stop or a handler error is not an unhandled rejection.
        prefetched.catch(() => {});
      }
      for (const stored of page.events) {
        // Awaited only when it returns a promise: a tick per event would cost synchronous handlers dearly.
        const handled = handler(stored);
        if (handled !== undefined) await handled;
        checkpoint = stored.checkpoint;
        if (stopping.signal.aborted) return;
      }
      // Past the events a filter skipped: the next read starts where this one looked up to.
      checkpoint = page.next;
      if (!page.hasMore) await waitForAppends(pollIntervalMs, stopping.signal);
    }
  };
  const done = loop();
  // `done` is for the caller; this keeps a failure from also surfacing as an unhandled rejection.
  done.catch(() => {});

  return {
    get checkpoint() {
      return checkpoint;
    },
    done,
    async stop() {
      stopping.abort();
      await done.catch(() => {});
    },
  };
}

/** A WaitForAppends that only sleeps: for stores that learn of other writers' appends by polling. */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
