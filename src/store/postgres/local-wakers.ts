import { sleepUnlessAborted, type WaitForAppends } from '../subscription.ts';

/**
 * Subscriptions of one store waiting for appends: `wake` ends every wait at once (appends through this
 * store); other writers are seen when the wait's poll interval ends.
 */
export function createLocalWakers(): { wake(): void; waitForAppends: WaitForAppends } {
  const wakers = new Set<() => void>();
  return {
    wake() {
      for (const wake of wakers) wake();
    },
    async waitForAppends(ms, signal) {
      let wake: () => void = () => {};
      const woken = new Promise<void>((resolve) => {
        wake = resolve;
      });
      wakers.add(wake);
      const stop = new AbortController();
      const onAbort = () => stop.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      await Promise.race([woken, sleepUnlessAborted(ms, stop.signal)]);
      stop.abort();
      signal.removeEventListener('abort', onAbort);
      wakers.delete(wake);
    },
  };
}
