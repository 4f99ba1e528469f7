import { createPostgresEventStore } from '../../store/postgres/index.ts';
import {
  adminConnection,
  dropSchema,
  postgresUrl,
  testSchemaName,
} from '../../test-support/postgres-database.ts';
import { usePostgresTestLock } from '../../test-support/postgres-lock.ts';
import { describeWorkflowContract, type WorkflowDatabase } from '../contract/workflow-contract.ts';
import { createPostgresWorkflowBackend } from './postgres-backend.ts';

// PostgreSQL test files take turns on the shared server (see the store's test lock).
usePostgresTestLock();

// Each test gets its own schema on the real server, dropped afterwards, so runs never collide.
describeWorkflowContract('postgres (real server, one schema per test)', async () => {
  const schema = testSchemaName('wf');
  const opened: WorkflowDatabase[] = [];
  const open = (): WorkflowDatabase => {
    const db = {
      store: createPostgresEventStore({ url: postgresUrl, schema, maxConnections: 4 }),
      backend: createPostgresWorkflowBackend({ url: postgresUrl, schema, maxConnections: 2 }),
    };
    opened.push(db);
    return db;
  };
  const first = open();
  // The store creates the schema on first use; the backend's tables go into it.
  await first.store.readAll({ maxCount: 0 });
  await first.backend.migrate();
  return {
    ...first,
    connect: async () => open(),
    cleanup: async () => {
      for (const db of opened) {
        await db.backend.close();
        await db.store.close();
      }
      const admin = adminConnection();
      await dropSchema(admin, schema);
      await admin.end();
    },
  };
});
