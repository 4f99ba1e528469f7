import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminConnection,
  dropSchema,
  postgresUrl,
  testSchemaName,
} from '../../test-support/postgres-database.ts';
import { usePostgresTestLock } from '../../test-support/postgres-lock.ts';
import { createEmbeddedTransport } from '../../transport/embedded/embedded-transport.ts';
import {
  type Latch,
  latch,
  readEverything,
  sleep,
  streamOrderViolations,
  testEvents,
  waitFor,
} from '../contract/contract-helpers.ts';
import type { AppendResult, EventStore, OutboxEntry, StoredEvent } from '../event-store.ts';
import { createOutboxRelay } from '../outbox/outbox-relay.ts';
import { createPostgresEventStore } from './postgres-event-store.ts';

// Issue 12: the global order is (transaction id, position), and a transaction may hold its id while it
// waits for another's lock on a stream. Here, every round: a held append owns stream B; a direct append
// to B queues behind it; then a group-commit statement for A and B writes A and queues for B too. When
// the held append commits, the direct append goes first, but the group commit took its transaction id
// earlier, so ordering by transaction id would put B's later version before its earlier one.
usePostgresTestLock();
describe('postgres event store: the global order keeps every stream’s versions in order', () => {
  const schema = testSchemaName('order');
  const admin = adminConnection();
  const opened: EventStore[] = [];
  const open = (options: { outbox?: boolean; maxAppendsInFlight?: number; maxConnections?: number } = {}) => {
    const store = createPostgresEventStore({ url: postgresUrl, schema, maxConnections: 4, ...options });
    opened.push(store);
    return store;
  };
  let dir = '';

  beforeAll(async () => {
    await open().readAll({ maxCount: 0 });
    dir = await mkdtemp(join(tmpdir(), 'keel-store-order-'));
  });
  afterAll(async () => {
    await Promise.allSettled(opened.map((s) => s.close()));
    await dropSchema(admin, schema);
    await admin.end();
    await rm(dir, { recursive: true, force: true });
  });

  /** Sessions of this schema's statements that wait for a lock. */
  const waiting = async (): Promise<number> => {
    const [row] = await admin.unsafe(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE wait_event_type = 'Lock' AND query LIKE $1`,
      [`%"${schema}".store_append_batch%`],
    );
    return Number(row?.n ?? 0);
  };

  it('writers queued on a stream behind a slow commit, through group commit and directly: readAll, the subscription and the relay see each stream in version order', async () => {
    const rounds = 6;
    const held = open({ outbox: true });
    const direct = open({ outbox: true });
    const grouped = open({ outbox: true, maxAppendsInFlight: 1 });
    const reader = open();
    const start = await reader.headCheckpoint();

    const transport = createEmbeddedTransport({
      path: join(dir, 'bus.db'),
      synchronous: 'normal',
      maintenanceIntervalMs: 0,
    });
    await transport.ensureTopics([{ name: 'order', partitions: 2 }]);
    const relayed: OutboxEntry[] = [];
    const relay = createOutboxRelay({
      store: held,
      transport,
      topic: 'order',
      pollIntervalMs: 5,
      batchSize: 5,
      onPublished: (entries) => void relayed.push(...entries),
    });
    relay.start();
    const subscribed: StoredEvent[] = [];
    const subscription = reader.subscribe({
      after: start,
      handler: (e) => void subscribed.push(e),
      batchSize: 3,
      pollIntervalMs: 5,
    });

    const appended: AppendResult[] = [];
    try {
      for (let round = 0; round < rounds; round++) {
        const a = `r${round}-a`;
        const b = `r${round}-b`;
        const z = `r${round}-z`;
        appended.push(await direct.append(b, testEvents(1)));
        // The held append owns b until the test lets it commit; another one owns z, where the group
        // commit's only slot waits, so that a and b queue meanwhile and go in one statement.
        const [holdsB, commitB, holdsZ, commitZ] = [latch(), latch(), latch(), latch()];
        const hold = (holds: Latch, commit: Latch) => () => {
          holds.open();
          return commit.promise;
        };
        const holding = held.append(b, testEvents(2), { withinTransaction: hold(holdsB, commitB) });
        const holdingZ = held.append(z, testEvents(1), { withinTransaction: hold(holdsZ, commitZ) });
        await Promise.all([holdsB.promise, holdsZ.promise]);
        const slot = grouped.append(z, testEvents(1));
        await waitFor(async () => (await waiting()) === 1);
        const queuedDirect = direct.append(b, testEvents(3));
        await waitFor(async () => (await waiting()) === 2);
        const groupA = grouped.append(a, testEvents(2));
        const groupB = grouped.append(b, testEvents(2));
        await sleep(5);
        commitZ.open();
        await Promise.all([holdingZ, slot]);
        // The slot's statement ended; a and b now go in one statement: a written, b queued behind the direct one.
        await waitFor(async () => (await waiting()) === 2);
        commitB.open();
        appended.push(...(await Promise.all([holding, holdingZ, slot, queuedDirect, groupA, groupB])));
      }
      const total = appended.reduce((n, r) => n + r.events.length, 0);
      await waitFor(async () => subscribed.length >= total && relayed.length >= total, 10_000);
    } finally {
      await subscription.stop();
      await relay.stop();
      await transport.close();
    }

    const total = appended.reduce((n, r) => n + r.events.length, 0);
    const read = await readEverything(reader, { after: start }, 4);
    expect({ readAll: read.length, subscription: subscribed.length, relay: relayed.length }).toEqual({
      readAll: total,
      subscription: total,
      relay: total,
    });
    expect({
      readAll: streamOrderViolations(read),
      subscription: streamOrderViolations(subscribed),
      relay: streamOrderViolations(relayed),
    }).toEqual({ readAll: [], subscription: [], relay: [] });
  }, 30_000);
});
