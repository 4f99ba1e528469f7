import type { Dirent } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Where claim-checked payloads are kept: a folder by default (`createFolderBlobStore`), or an S3-compatible
 * bucket (`s3/createS3BlobStore`); both pass the same contract (`contract/blob-store-contract.ts`). A key is a name (`a-z`, `0-9`, `-`), optionally under its topic: `<topic>/<name>`, so blobs expire
 * with their topic's retention.
 */
export interface BlobStore {
  /** Stores `bytes` under `key` (overwriting is allowed: keys are content digests). */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** The bytes under `key`, or undefined when there are none. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Every key (only those under `topic/` when given) with the time it was stored (milliseconds since the epoch). */
  list(topic?: string): Promise<{ key: string; storedAt: number }[]>;
  /** Removes `key`; nothing happens when it is already gone. */
  delete(key: string): Promise<void>;
}

const NAME_PATTERN = /^[a-z0-9-]{1,128}$/;
/** A Kafka-legal topic name other than `.` and `..`, so it is safe as a folder name. */
const TOPIC_PATTERN = /^(?!\.{1,2}$)[a-zA-Z0-9._-]{1,249}$/;

/** Whether `topic` can hold blobs: a Kafka-legal topic name other than `.` and `..`. */
export function isBlobTopic(topic: string): boolean {
  return TOPIC_PATTERN.test(topic);
}

/** Whether `key` is a blob key: `<name>` or `<topic>/<name>`. */
export function isBlobKey(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash === -1) return NAME_PATTERN.test(key);
  return TOPIC_PATTERN.test(key.slice(0, slash)) && NAME_PATTERN.test(key.slice(slash + 1));
}

/** The entries of a folder; none when it does not exist. */
async function entries(folder: string): Promise<Dirent[]> {
  try {
    return await readdir(folder, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** The blob files directly in one folder with when each was stored. */
async function listFolder(folder: string, prefix: string): Promise<{ key: string; storedAt: number }[]> {
  const names = (await entries(folder)).filter((entry) => entry.isFile() && NAME_PATTERN.test(entry.name));
  return Promise.all(
    names.map(async ({ name }) => ({
      key: prefix + name,
      storedAt: (await stat(join(folder, name))).mtimeMs,
    })),
  );
}

/** The blobs at the top of the folder and in every topic subfolder. */
async function listAll(folder: string): Promise<{ key: string; storedAt: number }[]> {
  const topics = (await entries(folder)).filter(
    (entry) => entry.isDirectory() && TOPIC_PATTERN.test(entry.name),
  );
  const nested = await Promise.all(topics.map(({ name }) => listFolder(join(folder, name), `${name}/`)));
  return [...(await listFolder(folder, '')), ...nested.flat()];
}

/** A blob store in a folder: one file per key, a subfolder per topic (`<folder>/<topic>/<name>`). */
export function createFolderBlobStore(folder: string): BlobStore {
  const path = (key: string) => {
    if (!isBlobKey(key)) {
      throw new TypeError(`blob key "${key}" must be 1-128 of a-z, 0-9 and '-', optionally after "<topic>/"`);
    }
    return join(folder, ...key.split('/'));
  };
  return {
    async put(key, bytes) {
      const file = path(key);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, bytes);
    },
    async get(key) {
      try {
        return await readFile(path(key));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    async list(topic) {
      if (topic === undefined) return listAll(folder);
      if (!TOPIC_PATTERN.test(topic)) throw new TypeError(`blob topic "${topic}" is not a topic name`);
      return listFolder(join(folder, topic), `${topic}/`);
    },
    async delete(key) {
      await rm(path(key), { force: true });
    },
  };
}
