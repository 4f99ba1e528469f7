import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where claim-checked payloads are kept: a folder by default; an S3-compatible store implements the same four calls. */
export interface BlobStore {
  /** Stores `bytes` under `key` (overwriting is allowed: keys are content digests). */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** The bytes under `key`, or undefined when there are none. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Every key with the time it was stored (milliseconds since the epoch). */
  list(): Promise<{ key: string; storedAt: number }[]>;
  /** Removes `key`; nothing happens when it is already gone. */
  delete(key: string): Promise<void>;
}

const KEY_PATTERN = /^[a-z0-9-]{1,128}$/;

/** A blob store in a folder: one file per key (keys are lower-case letters, digits and '-'). */
export function createFolderBlobStore(folder: string): BlobStore {
  const path = (key: string) => {
    if (!KEY_PATTERN.test(key)) throw new TypeError(`blob key "${key}" must be 1-128 of a-z, 0-9 and '-'`);
    return join(folder, key);
  };
  return {
    async put(key, bytes) {
      await mkdir(folder, { recursive: true });
      await writeFile(path(key), bytes);
    },
    async get(key) {
      try {
        return await readFile(path(key));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    async list() {
      let names: string[];
      try {
        names = await readdir(folder);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
      const keys = names.filter((name) => KEY_PATTERN.test(name));
      return Promise.all(
        keys.map(async (key) => ({ key, storedAt: (await stat(join(folder, key))).mtimeMs })),
      );
    },
    async delete(key) {
      await rm(path(key), { force: true });
    },
  };
}
