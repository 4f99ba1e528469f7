import type { Database } from 'better-sqlite3';

/**
 * Wakes waiting polls when the log may have changed: at once for commits made in this process
 * (any transport on the same file), and by polling `PRAGMA data_version` for other processes.
 */
export interface ChangeWatcher {
  /** A counter that moves every time a change is seen; read it before looking for records. */
  tick(): number;
  /**
   * Resolves once a change was seen after `seen` (at once if one already was), after `maxWaitMs`
   * milliseconds, or when the watcher closes. Spurious wake-ups are possible: callers look again.
   */
  wait(seen: number, maxWaitMs: number): Promise<void>;
  /** Announces a commit made through this process to every watcher on the same file. */
  notify(): void;
  /** Wakes this watcher's waiters only (e.g. a consumer closing or resuming a partition). */
  wake(): void;
  /** Wakes every waiter and stops polling. */
  close(): void;
}

/** How a watcher learns about changes. */
export interface ChangeWatcherOptions {
  db: Database;
  /** Identifies the file: watchers with the same key in this process wake each other. */
  key: string;
  /** Milliseconds between `data_version` checks while somebody waits. */
  pollIntervalMs: number;
}

// Watchers of one file in this process; a commit on one connection is announced to all of them,
// since `data_version` only reports other connections' commits and only when asked.
const localWatchers = new Map<string, Set<() => void>>();

/** Creates a watcher; it polls only while at least one `wait` is pending. */
export function createChangeWatcher(options: ChangeWatcherOptions): ChangeWatcher {
  const { db, key, pollIntervalMs } = options;
  const dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
  const waiters = new Set<() => void>();
  let ticks = 0;
  let closed = false;
  let lastVersion = dataVersion.get();
  let pollTimer: NodeJS.Timeout | undefined;

  const changed = (): void => {
    ticks++;
    for (const wake of [...waiters]) wake();
  };
  // True when another connection committed since the last look.
  const look = (): boolean => {
    if (closed) return false;
    const version = dataVersion.get();
    if (version === lastVersion) return false;
    lastVersion = version;
    changed();
    return true;
  };
  const schedule = (): void => {
    if (pollTimer !== undefined || closed || waiters.size === 0) return;
    pollTimer = setTimeout(() => {
      pollTimer = undefined;
      look();
      schedule();
    }, pollIntervalMs);
  };

  let peers = localWatchers.get(key);
  if (peers === undefined) {
    peers = new Set();
    localWatchers.set(key, peers);
  }
  peers.add(changed);

  return {
    tick: () => ticks,
    wait: (seen, maxWaitMs) => {
      // A commit by another process since `seen` was read is caught here, not by the next timer.
      if (closed || ticks !== seen || look() || maxWaitMs <= 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(deadline);
          waiters.delete(wake);
          if (waiters.size === 0 && pollTimer !== undefined) {
            clearTimeout(pollTimer);
            pollTimer = undefined;
          }
          resolve();
        };
        const deadline = setTimeout(wake, maxWaitMs);
        waiters.add(wake);
        schedule();
      });
    },
    notify: () => {
      for (const peer of localWatchers.get(key) ?? []) peer();
    },
    wake: changed,
    close: () => {
      if (closed) return;
      closed = true;
      const current = localWatchers.get(key);
      current?.delete(changed);
      if (current?.size === 0) localWatchers.delete(key);
      if (pollTimer !== undefined) clearTimeout(pollTimer);
      pollTimer = undefined;
      for (const wake of [...waiters]) wake();
    },
  };
}
