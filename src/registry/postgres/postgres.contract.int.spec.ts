import {
  adminConnection,
  dropSchema,
  postgresUrl,
  testSchemaName,
} from '../../test-support/postgres-database.ts';
import { usePostgresTestLock } from '../../test-support/postgres-lock.ts';
import { describeRegistryContract } from '../contract/registry-contract.ts';
import type { RegistryStorage } from '../registry-storage.ts';
import { createPostgresRegistryStorage } from './postgres-registry-storage.ts';

// PostgreSQL test files take turns on the shared server (see the store's test lock).
usePostgresTestLock();

// Each test gets its own schema on the real server, dropped afterwards.
describeRegistryContract('postgres (real server, one schema per test)', async () => {
  const schema = testSchemaName('registry');
  const opened: RegistryStorage[] = [];
  const open = (): RegistryStorage => {
    const storage = createPostgresRegistryStorage({ url: postgresUrl, schema, maxConnections: 4 });
    opened.push(storage);
    return storage;
  };
  return {
    storage: open(),
    connect: async () => open(),
    cleanup: async () => {
      for (const storage of opened) await storage.close();
      const admin = adminConnection();
      await dropSchema(admin, schema);
      await admin.end();
    },
  };
});
