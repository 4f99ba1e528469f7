import type { ReadAllOptions, ReadAllPage, SubscribeOptions, Subscription } from './event-store.ts';

/** Waits up to `ms` milliseconds, or less when the store learns of a new append or `signal` aborts. */
export type WaitForAppends = (ms: number, signal: AbortSignal) => Promise<void>;

/**
 * A catch-up subscription as a loop over `readAll`: read a page after the checkpoint, hand each event to
 * the handler in order, and wait for appends once caught up. Correctness (no skipped event) is readAll's:
 * the loop only ever resumes from the checkpoint of the last event it handled.
 */
export function startSubscription(
  readAll: (options: ReadAllOptions) => Promise<ReadAllPage>,
  waitForAppends: WaitForAppends,
  options: SubscribeOptions,
): Subscription {
  const { handler, after, batchSize = 500, pollIntervalMs = 100, ...filter } = options;
  if (typeof handler !== 'function') throw new TypeError('subscribe: handler must be a function');
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new TypeError(`subscribe: batchSize must be an integer ≥ 1, got ${batchSize}`);
  }
  if (!Number.isFinite(pollIntervalMs) || pollIntervalMs < 0) {
    throw new TypeError(`subscribe: pollIntervalMs must be a number ≥ 0, got ${pollIntervalMs}`);
  }
  const stopping = new AbortController();
  let checkpoint = after;

  const loop = async (): Promise<void> => {
    while (!stopping.signal.aborted) {
      const page = await readAll({ ...filter, after: checkpoint, maxCount: batchSize });
      for (const stored of page.events) {
        await handler(stored);
        checkpoint = stored.checkpoint;
        if (stopping.signal.aborted) return;
      }
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
