import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

/** The lock file PostgreSQL test files take in turn: holds the pid of the test process inside. */
export const POSTGRES_TEST_LOCK = join(tmpdir(), 'keel-store-postgres-tests.lock');

/** Longest wait for the lock, in milliseconds: every other PostgreSQL test file may run first. */
const WAIT_MS = 240_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the PostgreSQL test lock: an exclusive file (O_EXCL) naming this process, taken over when its
 * holder has died. Resolves with the release function.
 */
export async function acquirePostgresTestLock(): Promise<() => void> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      const fd = openSync(POSTGRES_TEST_LOCK, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(POSTGRES_TEST_LOCK, 'utf8') === String(process.pid))
            unlinkSync(POSTGRES_TEST_LOCK);
        } catch {
          // Already gone: nothing to release.
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder = Number.NaN;
    try {
      holder = Number(readFileSync(POSTGRES_TEST_LOCK, 'utf8'));
    } catch {
      continue; // released between our two calls
    }
    // A holder that died (killed worker) leaves the file behind; so does one that has not written its pid yet.
    if (Number.isSafeInteger(holder) && holder > 0 && !alive(holder)) {
      try {
        unlinkSync(POSTGRES_TEST_LOCK);
      } catch {
        // Another waiter removed it first.
      }
      continue;
    }
    if (Date.now() > deadline)
      throw new Error(`PostgreSQL test lock still held by pid ${holder} after ${WAIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Makes the calling test file run alone among the PostgreSQL test files. They share one server, and
 * its readers' horizon is cluster-wide: a transaction another file holds open (the gap proofs hold
 * many on purpose) hides events just appended here, and the restart proof stops the server for every
 * file. SQLite and other suites keep running in parallel.
 */
export function usePostgresTestLock(): void {
  let release: (() => void) | undefined;
  beforeAll(async () => {
    release = await acquirePostgresTestLock();
  }, WAIT_MS + 10_000);
  afterAll(() => {
    release?.();
  });
}
