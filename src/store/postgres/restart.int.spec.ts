import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { CloudEvent } from '../../events/cloud-event.ts';
import {
  adminConnection,
  dropSchema,
  postgresUrl,
  testSchemaName,
} from '../../test-support/postgres-database.ts';
import { usePostgresTestLock } from '../../test-support/postgres-lock.ts';
import { sleep, testEvents, waitFor } from '../contract/contract-helpers.ts';
import type { EventStore, StoredEvent } from '../event-store.ts';
import { createPostgresEventStore } from './postgres-event-store.ts';

const run = promisify(execFile);

/** The local cluster (`/etc/postgresql/<version>/main`): the dev/CI server this proof restarts. */
const VERSION = readdirSync('/etc/postgresql').sort().at(-1) ?? '15';

async function serverUp(): Promise<boolean> {
  try {
    await run('pg_isready', ['-h', '127.0.0.1', '-p', '5432', '-t', '2'], { timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}

/** Starts the cluster again if it is not accepting connections: the suite never leaves it down. */
async function ensureServerUp(): Promise<void> {
  if (await serverUp()) return;
  await run('pg_ctlcluster', [VERSION, 'main', 'start'], { timeout: 60_000 }).catch(() => {});
  const deadline = Date.now() + 60_000;
  while (!(await serverUp()) && Date.now() < deadline) await sleep(200);
}

// The real server restarted (`pg_ctlcluster <version> main restart`, fast mode: clients are cut off)
// while four writers append and a subscription follows. Runs alone among the PostgreSQL test files (the
// file lock), and puts the server back up even when it fails. Needs root (or the postgres user).
usePostgresTestLock();
describe('postgres event store: the server restarts during appends', () => {
  const schema = testSchemaName('restart');
  let store: EventStore | undefined;

  afterAll(async () => {
    await ensureServerUp();
    await store?.close();
    const admin = adminConnection();
    await dropSchema(admin, schema);
    await admin.end();
  }, 120_000);

  it('every acknowledged append is readable after, once; the store reconnects and the subscription carries on by itself', async () => {
    store = createPostgresEventStore({ url: postgresUrl, schema, maxConnections: 4 });
    const opened = store;
    await opened.readAll({ maxCount: 0 });

    const seen = new Map<string, number>();
    const readErrors: number[] = [];
    const subscription = opened.subscribe({
      handler: (e: StoredEvent) => void seen.set(e.event.id, (seen.get(e.event.id) ?? 0) + 1),
      pollIntervalMs: 10,
      retry: { initialDelayMs: 50, maxDelayMs: 500 },
      onReadError: (_, attempt) => readErrors.push(attempt),
    });

    const acknowledged = new Set<string>();
    const ackedBeforeRestart = new Set<string>();
    let appendErrors = 0;
    let restarting = false;
    let writing = true;
    // Each writer retries a failed append with the same events: an append whose commit was lost with
    // the connection is either stored (the retry is answered from the stored rows) or not (stored now).
    const writer = async (w: number): Promise<void> => {
      for (let n = 0; writing; n++) {
        const events: CloudEvent[] = testEvents(1 + (n % 2));
        for (;;) {
          try {
            const result = await opened.append(`writer-${w}-${n % 5}`, events);
            for (const e of result.events) {
              acknowledged.add(e.event.id);
              if (!restarting) ackedBeforeRestart.add(e.event.id);
            }
            break;
          } catch {
            appendErrors++;
            await sleep(50);
          }
        }
      }
    };
    const writers = Array.from({ length: 4 }, (_, w) => writer(w));

    await waitFor(() => acknowledged.size >= 300, 20_000);
    restarting = true;
    const restartStarted = Date.now();
    try {
      await run('pg_ctlcluster', [VERSION, 'main', 'restart'], { timeout: 60_000 });
    } finally {
      await ensureServerUp();
    }
    const restartMs = Date.now() - restartStarted;
    const afterRestart = acknowledged.size;
    // The same store object appends again: its driver reconnected on its own.
    await waitFor(() => acknowledged.size >= afterRestart + 300, 30_000);
    writing = false;
    await Promise.all(writers);

    await waitFor(() => [...acknowledged].every((id) => seen.has(id)), 30_000);
    await subscription.stop();

    const everything = new Map<string, number>();
    let after: string | undefined;
    for (;;) {
      const page = await opened.readAll({ after, maxCount: 1000 });
      for (const e of page.events) everything.set(e.event.id, (everything.get(e.event.id) ?? 0) + 1);
      after = page.next;
      if (!page.hasMore) break;
    }
    const missing = [...acknowledged].filter((id) => !everything.has(id));
    const missingBefore = [...ackedBeforeRestart].filter((id) => !everything.has(id));
    const repeated = [...everything].filter(([, n]) => n > 1);
    const repeatedBySubscription = [...seen].filter(([, n]) => n > 1);
    expect({ missing, missingBefore, repeated, repeatedBySubscription }).toEqual({
      missing: [],
      missingBefore: [],
      repeated: [],
      repeatedBySubscription: [],
    });
    // The restart really cut appends and reads off, and both came back without any help.
    expect(appendErrors).toBeGreaterThan(0);
    expect(readErrors.length).toBeGreaterThan(0);
    expect(ackedBeforeRestart.size).toBeGreaterThanOrEqual(300);
    console.info(
      `restart took ${restartMs} ms; ${acknowledged.size} events acknowledged (${ackedBeforeRestart.size} before the restart), ${appendErrors} append attempts failed and were retried, the subscription retried ${readErrors.length} reads`,
    );
  }, 120_000);
});
