import { describeEventStoreContract } from '../contract/event-store-contract.ts';
import type { EventStore } from '../event-store.ts';
import { createPostgresEventStore, type PostgresStoreCommonOptions } from './postgres-event-store.ts';
import { adminConnection, dropSchema, postgresUrl, testSchemaName } from './test-support/test-database.ts';

// Each test gets its own schema on the real server, dropped afterwards, so runs never collide.
describeEventStoreContract('postgres (real server, one schema per test)', async () => {
  const schema = testSchemaName('contract');
  const admin = adminConnection();
  const opened: EventStore[] = [];
  const open = (options: PostgresStoreCommonOptions = {}) => {
    const store = createPostgresEventStore({ url: postgresUrl, schema, maxConnections: 2, ...options });
    opened.push(store);
    return store;
  };
  const store = open();
  // Migrating creates the schema; the side table for hooks lives in it.
  await store.readAll({ maxCount: 0 });
  await admin.unsafe(
    `CREATE TABLE "${schema}".contract_side (stream_id text NOT NULL, event_id text NOT NULL, version integer NOT NULL)`,
  );
  return {
    store,
    connect: async (options = {}) => open(options),
    // One connection each: 16 writers are 16 sessions whose transactions interleave on the server.
    writer: async () => open({ maxConnections: 1 }),
    sideTable: `"${schema}".contract_side`,
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
});
