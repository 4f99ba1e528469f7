import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeRegistryContract } from '../contract/registry-contract.ts';
import type { RegistryStorage } from '../registry-storage.ts';
import { createSqliteRegistryStorage } from './sqlite-registry-storage.ts';

// A file, not :memory:: a second connection (another registry, a restart) must see the same schemas.
describeRegistryContract('sqlite (file, WAL)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'keel-registry-'));
  const path = join(dir, 'keel.db');
  const opened: RegistryStorage[] = [];
  const open = (): RegistryStorage => {
    const storage = createSqliteRegistryStorage({ path, synchronous: 'normal' });
    opened.push(storage);
    return storage;
  };
  return {
    storage: open(),
    connect: async () => open(),
    cleanup: async () => {
      for (const storage of opened) await storage.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
