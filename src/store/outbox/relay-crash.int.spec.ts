import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnScript, type WatchedProcess } from '../../cli/test-support/run-cli.ts';
import { fromRecord } from '../../events/kafka-binding.ts';
import {
  adminConnection,
  dropSchema,
  postgresUrl,
  testSchemaName,
} from '../../test-support/postgres-database.ts';
import { acquirePostgresTestLock } from '../../test-support/postgres-lock.ts';
import { createEmbeddedTransport } from '../../transport/embedded/index.ts';
import { sleep, testEvents, waitFor } from '../contract/contract-helpers.ts';
import type { EventStore } from '../event-store.ts';
import { createPostgresEventStore } from '../postgres/index.ts';
import { createSqliteEventStore } from '../sqlite/index.ts';

const RELAY = fileURLToPath(new URL('../test-support/relay-process.ts', import.meta.url));
const TOPIC = 'outbox-proof';
const STREAMS = 8;
const APPENDS = 240;

interface Backend {
  adapter: 'sqlite' | 'postgres';
  store: EventStore;
  location: string;
  schema: string;
  cleanup(): Promise<void>;
}

async function openBackend(adapter: 'sqlite' | 'postgres', dir: string): Promise<Backend> {
  if (adapter === 'sqlite') {
    const location = join(dir, 'store.db');
    const store = createSqliteEventStore({ path: location, synchronous: 'normal', outbox: true });
    return { adapter, store, location, schema: '-', cleanup: () => store.close() };
  }
  const release = await acquirePostgresTestLock();
  const schema = testSchemaName('relay_crash');
  const store = createPostgresEventStore({ url: postgresUrl, schema, maxConnections: 4, outbox: true });
  await store.readAll({ maxCount: 0 });
  return {
    adapter,
    store,
    location: postgresUrl,
    schema,
    async cleanup() {
      await store.close();
      const admin = adminConnection();
      await dropSchema(admin, schema);
      await admin.end();
      release();
    },
  };
}

// Relays run in processes of their own and are SIGKILLed mid-stream while a test process appends: the
// transport must end up with every appended event, in version order per stream, none lost, duplicates
// only of the same event ids, and a standby must take over within seconds of the active relay's death.
describe.each(['sqlite', 'postgres'] as const)('outbox relay crash proof: %s', (adapter) => {
  const relays: WatchedProcess[] = [];
  let backend: Backend | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    for (const relay of relays.splice(0)) {
      if (relay.child.exitCode === null && relay.child.signalCode === null) relay.child.kill('SIGKILL');
      await relay.exited;
    }
    await backend?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('SIGKILL the active relay mid-stream, twice: a standby takes over in seconds; every event arrives, in order per stream', async () => {
    dir = await mkdtemp(join(tmpdir(), 'keel-relay-crash-'));
    const busPath = join(dir, 'bus.db');
    const bus = createEmbeddedTransport({ path: busPath, synchronous: 'normal', maintenanceIntervalMs: 0 });
    await bus.ensureTopics([{ name: TOPIC, partitions: 3 }]);
    backend = await openBackend(adapter, dir);
    const { store } = backend;
    const startRelay = async (): Promise<WatchedProcess> => {
      const relay = spawnScript(RELAY, [adapter, backend!.location, backend!.schema, busPath, TOPIC]);
      relays.push(relay);
      await relay.waitForLine(/^started$/);
      return relay;
    };
    const publishedBy = (relay: WatchedProcess): number => {
      const last = relay.stdout().match(/published (\d+)\n(?![\s\S]*published)/);
      return last ? Number(last[1]) : 0;
    };

    // The appender: 240 appends of 1-3 events over 8 streams, paced so the kills land mid-stream.
    const appended: { id: string; streamId: string; version: number }[] = [];
    let appending = true;
    const appender = (async () => {
      for (let i = 0; i < APPENDS; i++) {
        const result = await store.append(`stream-${i % STREAMS}`, testEvents(1 + (i % 3)));
        for (const e of result.events)
          appended.push({ id: e.event.id, streamId: e.streamId, version: e.version });
        await sleep(4);
      }
      appending = false;
    })();

    const first = await startRelay();
    await first.waitForLine(/^active$/, 10_000);
    const standby = await startRelay();
    await waitFor(() => publishedBy(first) >= 60, 10_000);
    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    await standby.waitForLine(/^active$/, 10_000);
    const firstTakeover = Date.now() - killedAt;
    // The killed relay restarts as the new standby; the active one is killed in turn.
    const restarted = await startRelay();
    const before = publishedBy(standby);
    await waitFor(() => publishedBy(standby) >= before + 60 || !appending, 10_000);
    standby.child.kill('SIGKILL');
    const killedAgainAt = Date.now();
    await restarted.waitForLine(/^active$/, 10_000);
    const secondTakeover = Date.now() - killedAgainAt;

    await appender;
    await waitFor(async () => (await store.outbox.pendingCount()) === 0, 15_000);
    restarted.child.kill('SIGTERM');
    expect((await restarted.exited).status).toBe(0);

    const records: { id: string; partition: number; key: string | null }[] = [];
    for (let partition = 0; partition < 3; partition++) {
      for (const record of await bus.read(TOPIC, partition, 0n, 100_000)) {
        records.push({ id: fromRecord(record).id, partition, key: record.key });
      }
    }
    await bus.close();

    const appendedIds = new Set(appended.map((e) => e.id));
    const received = new Set(records.map((r) => r.id));
    const lost = [...appendedIds].filter((id) => !received.has(id));
    const unexpected = [...received].filter((id) => !appendedIds.has(id));
    expect({ lost, unexpected }).toEqual({ lost: [], unexpected: [] });
    // Per stream: one partition, and the first arrival of each event in version order.
    for (let s = 0; s < STREAMS; s++) {
      const streamId = `stream-${s}`;
      const mine = records.filter((r) => r.key === streamId);
      expect(new Set(mine.map((r) => r.partition)).size).toBe(1);
      const firstSeen = [...new Set(mine.map((r) => r.id))];
      const expected = appended.filter((e) => e.streamId === streamId).map((e) => e.id);
      expect(firstSeen).toEqual(expected);
    }
    expect(firstTakeover).toBeLessThan(5_000);
    expect(secondTakeover).toBeLessThan(5_000);
    const duplicates = records.length - received.size;
    // Duplicates only as the dedupe key allows: the same ids again, never more than the kills could cause.
    expect(duplicates).toBeLessThanOrEqual(2 * 25);
    console.info(
      `${adapter}: ${appended.length} events, ${records.length} records (${duplicates} duplicates), takeovers ${firstTakeover} ms and ${secondTakeover} ms`,
    );
  }, 60_000);
});
