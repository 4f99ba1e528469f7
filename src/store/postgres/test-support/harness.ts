import {
  adminConnection,
  dropSchema,
  postgresUrl,
  testSchemaName,
} from '../../../test-support/postgres-database.ts';
import type { EventStoreHarness } from '../../contract/event-store-contract.ts';
import type { EventStore } from '../../event-store.ts';
import { createPostgresEventStore, type PostgresStoreCommonOptions } from '../postgres-event-store.ts';

/** The store, with every horizon-bound read (read-all, head, count) waiting for the cluster to settle first. */
function settling(store: EventStore, settle: () => Promise<void>): EventStore {
  const wrapped: EventStore = Object.create(store) as EventStore;
  return Object.assign(wrapped, {
    readAll: async (options?: Parameters<EventStore['readAll']>[0]) => {
      await settle();
      return store.readAll(options);
    },
    headCheckpoint: async () => {
      await settle();
      return store.headCheckpoint();
    },
    countEvents: async (options?: Parameters<EventStore['countEvents']>[0]) => {
      await settle();
      return store.countEvents(options);
    },
    forTenant: (tenantId: string) => settling(store.forTenant(tenantId), settle),
  });
}

/** A fresh PostgreSQL store for one contract test: its own schema on the real server, dropped afterwards. */
export async function postgresHarness(): Promise<EventStoreHarness> {
  const schema = testSchemaName('contract');
  const admin = adminConnection();
  const opened: EventStore[] = [];
  const open = (options: PostgresStoreCommonOptions = {}) => {
    const store = createPostgresEventStore({ url: postgresUrl, schema, maxConnections: 2, ...options });
    opened.push(store);
    return store;
  };
  const settle = async (): Promise<void> => {
    const deadline = Date.now() + 2_000;
    for (;;) {
      const [row] = await admin.unsafe(
        'SELECT pg_snapshot_xmin(s) = pg_snapshot_xmax(s) AS quiet FROM pg_current_snapshot() s',
      );
      if (row?.quiet === true || Date.now() > deadline) return;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  };
  const raw = open();
  // Migrating creates the schema; the side table for hooks lives in it.
  await raw.readAll({ maxCount: 0 });
  const store = settling(raw, settle);
  await admin.unsafe(
    `CREATE TABLE "${schema}".contract_side (stream_id text NOT NULL, event_id text NOT NULL, version integer NOT NULL)`,
  );
  return {
    store,
    connect: async (options = {}) => open(options),
    // One connection each: 16 writers are 16 sessions whose transactions interleave on the server.
    writer: async () => open({ maxConnections: 1 }),
    sideTable: `"${schema}".contract_side`,
    settle,
    sideRows: async () =>
      (
        await admin.unsafe(
          `SELECT stream_id, event_id, version FROM "${schema}".contract_side ORDER BY event_id`,
        )
      ).map((r) => ({
        stream_id: r.stream_id as string,
        event_id: r.event_id as string,
        version: Number(r.version),
      })),
    cleanup: async () => {
      await Promise.allSettled(opened.map((s) => s.close()));
      await dropSchema(admin, schema);
      await admin.end();
    },
  };
}
