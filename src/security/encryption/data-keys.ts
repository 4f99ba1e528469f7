import { randomBytes, randomUUID } from 'node:crypto';
import { InvalidSubjectError } from './errors.ts';
import type { DataKeyRow, KeyStore } from './key-store.ts';
import { MAX_SUBJECT_LENGTH } from './key-store.ts';
import { KEY_BYTES, type MasterKey, unwrapDataKey, wrapDataKey } from './master-key.ts';

/** A usable data key: unwrapped, or gone (erased or unknown). */
export type DataKey = { keyId: string; subject: string; key: Buffer } | { keyId: string; erased: true };

/** Data keys for sealing and opening, cached for `cacheMs` so most fields cost no key store round trip. */
export interface DataKeys {
  /** The subject's current key, created (version 1, or the next after an erasure) when it has none. */
  forSealing(subject: string): Promise<{ keyId: string; key: Buffer }>;
  /** The key that sealed a value, or `erased` when it was erased (or never existed in this store). */
  forOpening(keyId: string): Promise<DataKey>;
  /** What `forOpening` answers, when it is cached already (no promise); undefined otherwise. */
  cachedForOpening(keyId: string): DataKey | undefined;
  /** Adds a new version of the subject's key; older values still open with their own versions. */
  rotate(subject: string): Promise<DataKeyRow>;
  /** Forgets what is cached of a subject (after its erasure). */
  forget(subject: string): void;
  /** The master key the data keys are wrapped with (after a master key rotation, the new one). */
  useMaster(master: MasterKey): void;
}

interface Cached<T> {
  value: Promise<T>;
  /** The value once the promise resolved. */
  settled?: T;
  until: number;
}

/** Checks a subject as a key name. */
export function checkSubject(subject: unknown): string {
  if (typeof subject !== 'string' || subject === '' || subject.length > MAX_SUBJECT_LENGTH) {
    throw new InvalidSubjectError(subject);
  }
  return subject;
}

/** Creates the data key cache over a key store. */
export function createDataKeys(store: KeyStore, initialMaster: MasterKey, cacheMs: number): DataKeys {
  let master = initialMaster;
  const bySubject = new Map<string, Cached<{ keyId: string; key: Buffer }>>();
  const byId = new Map<string, Cached<DataKey>>();
  // Which subject each cached key belongs to, so erasure can drop them at once.
  const subjectOfKey = new Map<string, string>();

  const cached = <T>(map: Map<string, Cached<T>>, name: string, load: () => Promise<T>): Promise<T> => {
    const hit = map.get(name);
    if (hit !== undefined && hit.until > Date.now()) return hit.value;
    const value = load();
    const entry: Cached<T> = { value, until: Date.now() + cacheMs };
    map.set(name, entry);
    value.then(
      (settled) => {
        entry.settled = settled;
      },
      // A failed load is not cached: the next call asks the store again.
      () => map.delete(name),
    );
    return value;
  };

  const unwrapped = (row: DataKeyRow) => {
    subjectOfKey.set(row.keyId, row.subject);
    return { keyId: row.keyId, subject: row.subject, key: unwrapDataKey(master, row.keyId, row.wrapped!) };
  };

  const newKey = (subject: string) => {
    const keyId = randomUUID();
    return {
      keyId,
      subject,
      wrapped: wrapDataKey(master, keyId, randomBytes(KEY_BYTES)),
      masterKeyId: master.id,
    };
  };

  return {
    forSealing: (subject) =>
      cached(bySubject, checkSubject(subject), async () => {
        const row =
          (await store.currentKey(subject)) ?? (await store.addKey(newKey(subject), { onlyIfNone: true }));
        return unwrapped(row);
      }),

    forOpening: (keyId) =>
      cached(byId, keyId, async (): Promise<DataKey> => {
        const row = await store.keyById(keyId);
        if (row?.wrapped === undefined) return { keyId, erased: true };
        return unwrapped(row);
      }),

    cachedForOpening(keyId) {
      const hit = byId.get(keyId);
      return hit !== undefined && hit.until > Date.now() ? hit.settled : undefined;
    },

    async rotate(subject) {
      const row = await store.addKey(newKey(checkSubject(subject)), { onlyIfNone: false });
      bySubject.delete(subject);
      return row;
    },

    forget(subject) {
      bySubject.delete(subject);
      for (const [keyId, owner] of subjectOfKey) {
        if (owner !== subject) continue;
        byId.delete(keyId);
        subjectOfKey.delete(keyId);
      }
    },

    useMaster(next) {
      master = next;
      bySubject.clear();
      byId.clear();
      subjectOfKey.clear();
    },
  };
}
