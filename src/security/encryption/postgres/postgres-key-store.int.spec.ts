import {
  adminConnection,
  dropSchema,
  postgresUrl,
  testSchemaName,
} from '../../../test-support/postgres-database.ts';
import { usePostgresTestLock } from '../../../test-support/postgres-lock.ts';
import { describeKeyStoreContract } from '../contract/key-store-contract.ts';
import type { KeyStore } from '../key-store.ts';
import { createPostgresKeyStore } from './postgres-key-store.ts';

usePostgresTestLock();
describeKeyStoreContract('postgres (real server, one schema per test)', async () => {
  const schema = testSchemaName('phi_keys');
  const admin = adminConnection();
  const opened: KeyStore[] = [];
  const open = async () => {
    const store = createPostgresKeyStore({ url: postgresUrl, schema });
    await store.start();
    opened.push(store);
    return store;
  };
  return {
    store: await open(),
    reopen: open,
    async rawWrapped(keyId) {
      const [row] = await admin.unsafe(`SELECT wrapped FROM "${schema}".phi_keys WHERE key_id = $1`, [keyId]);
      return (row?.wrapped as Buffer | null) ?? null;
    },
    async cleanup() {
      for (const store of opened) await store.close();
      await dropSchema(admin, schema);
      await admin.end();
    },
  };
});
