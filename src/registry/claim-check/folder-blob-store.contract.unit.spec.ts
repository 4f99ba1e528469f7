import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFolderBlobStore } from './blob-store.ts';
import { describeBlobStoreContract } from './contract/blob-store-contract.ts';

describeBlobStoreContract('folder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-blob-folder-'));
  return {
    store: createFolderBlobStore(join(dir, 'blobs')),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});
