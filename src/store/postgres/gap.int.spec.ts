import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminConnection,
  dropSchema,
  postgresUrl,
  testSchemaName,
} from '../../test-support/postgres-database.ts';
import { usePostgresTestLock } from '../../test-support/postgres-lock.ts';
import { readEverything, sleep, testEvents } from '../contract/contract-helpers.ts';
import type { EventStore, StoredEvent } from '../event-store.ts';
import { createPostgresEventStore } from './postgres-event-store.ts';

// The gap problem on the real server, harder than the contract's version: more writers, transactions held
// open inside PostgreSQL (pg_sleep), one held for most of the run, appends that roll back after taking
// their positions, and two readers (a polling readAll and a subscription) that must each see every
// committed event exactly once. A reader resuming from `position > checkpoint` misses dozens of events here.
usePostgresTestLock();
describe('postgres event store: no gaps visible to readers', () => {
  const schema = testSchemaName('gap');
  const admin = adminConnection();
  const opened: EventStore[] = [];
  const open = (maxConnections: number): EventStore => {
    const store = createPostgresEventStore({ url: postgresUrl, schema, maxConnections });
    opened.push(store);
    return store;
  };

  beforeAll(async () => {
    await open(1).readAll({ maxCount: 0 });
  });
  afterAll(async () => {
    await Promise.allSettled(opened.map((s) => s.close()));
    await dropSchema(admin, schema);
    await admin.end();
  });

  it('24 writers with held, long-held and rolled-back transactions: both readers see each committed event once', async () => {
    const writerCount = 24;
    const appendsPerWriter = 15;
    const writers = Array.from({ length: writerCount }, () => open(1));
    const reader = open(1);
    const start = (await readEverything(reader)).at(-1)?.checkpoint;

    const committed = new Set<string>();
    const rolledBack = new Set<string>();
    const polled = new Map<string, number>();
    const subscribed = new Map<string, number>();
    const count = (seen: Map<string, number>, e: StoredEvent) =>
      seen.set(e.event.id, (seen.get(e.event.id) ?? 0) + 1);

    let writing = true;
    let checkpoint = start;
    const readOnce = async (): Promise<number> => {
      const page = await reader.readAll({ after: checkpoint, maxCount: 11 });
      for (const e of page.events) count(polled, e);
      checkpoint = page.next;
      return page.events.length;
    };
    const polling = (async () => {
      while (writing) if ((await readOnce()) === 0) await sleep(1);
      while ((await readOnce()) > 0) {}
    })();
    const subscription = open(1).subscribe({
      after: start,
      handler: (e) => void count(subscribed, e),
      batchSize: 7,
      pollIntervalMs: 5,
    });

    await Promise.all(
      writers.map(async (writer, i) => {
        for (let j = 0; j < appendsPerWriter; j++) {
          const events = testEvents(1 + ((i * 3 + j) % 4));
          // Writer 0's first transaction stays open for most of the run; others hold 10-90 ms now and then.
          const holdSeconds =
            i === 0 && j === 0 ? 1.2 : (i + j) % 5 === 0 ? 0.01 + ((i * 17 + j * 7) % 9) / 100 : 0;
          const rollBack = (i * 5 + j) % 11 === 3;
          try {
            const result = await writer.append(`stream-${i}-${j % 3}`, events, {
              withinTransaction:
                holdSeconds > 0 || rollBack
                  ? async ({ transaction }) => {
                      if (holdSeconds > 0) await transaction.query('SELECT pg_sleep($1)', [holdSeconds]);
                      if (rollBack) throw new Error('rolled back on purpose');
                    }
                  : undefined,
            });
            for (const e of result.events) committed.add(e.event.id);
          } catch (error) {
            if (!rollBack) throw error;
            for (const e of events) rolledBack.add(e.id);
          }
        }
      }),
    );
    writing = false;
    await polling;
    const deadline = Date.now() + 10_000;
    while (subscribed.size < committed.size && Date.now() < deadline) await sleep(10);
    await sleep(50); // anything extra (a repeat) would arrive now
    await subscription.stop();

    expect(rolledBack.size).toBeGreaterThan(0);
    for (const [label, seen] of [
      ['polling readAll', polled],
      ['subscription', subscribed],
    ] as const) {
      const missing = [...committed].filter((id) => !seen.has(id));
      const repeated = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
      const unexpected = [...seen.keys()].filter((id) => !committed.has(id));
      expect({ label, missing, repeated, unexpected }).toEqual({
        label,
        missing: [],
        repeated: [],
        unexpected: [],
      });
    }

    // Read order keeps each stream's versions in order.
    const all = await readEverything(reader, { after: start });
    const last = new Map<string, number>();
    for (const e of all) {
      expect(e.version).toBe((last.get(e.streamId) ?? 0) + 1);
      last.set(e.streamId, e.version);
    }
    expect(all).toHaveLength(committed.size);
  }, 60_000);

  it('readers wait for any writing transaction of the server to end, even one that never touches the store', async () => {
    const store = open(1);
    const start = (await readEverything(store)).at(-1)?.checkpoint;
    await admin.unsafe(`CREATE TABLE IF NOT EXISTS "${schema}".unrelated (n integer)`);
    const other = await admin.reserve();
    try {
      await other.unsafe('BEGIN');
      await other.unsafe(`INSERT INTO "${schema}".unrelated VALUES (1)`);
      const appended = await store.append('behind-unrelated', testEvents(2));
      // The open transaction might still write an event with a lower transaction id: readers cannot pass it.
      expect((await store.readAll({ after: start })).events).toEqual([]);
      await other.unsafe('COMMIT');
      const after = await store.readAll({ after: start });
      expect(after.events.map((e) => e.event.id)).toEqual(appended.events.map((e) => e.event.id));
    } finally {
      other.release();
    }
  });
});
