import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { describeKeyStoreContract } from '../contract/key-store-contract.ts';
import type { KeyStore } from '../key-store.ts';
import { createSqliteKeyStore } from './sqlite-key-store.ts';

describeKeyStoreContract('sqlite (a file)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-phi-keys-'));
  const path = join(dir, 'keys.db');
  const opened: KeyStore[] = [];
  const open = async () => {
    const store = createSqliteKeyStore({ path });
    await store.start();
    opened.push(store);
    return store;
  };
  return {
    store: await open(),
    reopen: open,
    async rawWrapped(keyId) {
      const db = new BetterSqlite3(path, { readonly: true });
      try {
        return (
          db.prepare('SELECT wrapped FROM phi_keys WHERE key_id = ?').get(keyId) as { wrapped: Buffer | null }
        ).wrapped;
      } finally {
        db.close();
      }
    },
    async cleanup() {
      for (const store of opened) await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
