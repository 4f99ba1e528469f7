import { resolve } from 'node:path';
import type { Database } from 'better-sqlite3';
import type { WaitForAppends } from '../subscription.ts';

// Stores on the same file in one process wake each other's subscriptions instead of waiting a poll interval.
const wakers = new Map<string, { waiting: Set<() => void>; stores: number }>();

/** The wake-up of the subscriptions of every store on the same file in this process. */
export interface FileWakers {
  /** Ends every wait at once: events were appended. */
  notify(): void;
  waitForAppends: WaitForAppends;
  /** This store no longer shares the file's wakers (on close). */
  leave(): void;
}

/** Joins the wakers of the connection's file; `:memory:` databases are private to their connection. */
export function joinFileWakers(db: Database): FileWakers {
  const wakeKey = db.memory ? undefined : resolve(db.name);
  let sameFile = wakeKey === undefined ? undefined : wakers.get(wakeKey);
  if (wakeKey !== undefined && sameFile === undefined) {
    sameFile = { waiting: new Set(), stores: 0 };
    wakers.set(wakeKey, sameFile);
  }
  if (sameFile !== undefined) sameFile.stores += 1;
  const waiting: Set<() => void> = sameFile?.waiting ?? new Set();
  return {
    notify() {
      for (const wake of waiting) wake();
    },
    waitForAppends: (ms, signal) =>
      new Promise<void>((resolveWait) => {
        if (signal.aborted) return resolveWait();
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          waiting.delete(done);
          signal.removeEventListener('abort', done);
          resolveWait();
        }
        waiting.add(done);
        signal.addEventListener('abort', done, { once: true });
      }),
    leave() {
      if (sameFile !== undefined && --sameFile.stores === 0) wakers.delete(wakeKey!);
    },
  };
}
