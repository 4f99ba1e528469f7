/** One data key as the key store holds it: wrapped by the master key, or erased. */
export interface DataKeyRow {
  /** Random id named by every value the key sealed (`keel:phi:v1:<keyId>:...`). */
  keyId: string;
  /** Whose data the key encrypts, e.g. `patient-123`. */
  subject: string;
  /** 1 for a subject's first key, then 2, 3, ... (rotation, or a new key after an erasure). */
  version: number;
  /** The data key wrapped by the master key; undefined once erased. */
  wrapped: Buffer | undefined;
  /** Fingerprint of the master key that wrapped it; undefined once erased. */
  masterKeyId: string | undefined;
  createdAt: Date;
  /** When the key was destroyed; undefined while it lives. */
  erasedAt: Date | undefined;
}

/** A new data key to add. */
export interface NewDataKey {
  keyId: string;
  subject: string;
  wrapped: Buffer;
  masterKeyId: string;
}

/**
 * Where data keys live (SQLite or PostgreSQL; one contract suite for both). Keys are never stored in plain:
 * each is wrapped by the master key. Erasure overwrites the wrapped key, so no copy of it is left in the store.
 */
export interface KeyStore {
  /** Creates or migrates the store's tables. */
  start(): Promise<void>;
  /** Fingerprint of the master key the store's keys are wrapped with; undefined until one is claimed. */
  masterKeyId(): Promise<string | undefined>;
  /** Records `id` as the store's master key when it has none; answers the store's master key (maybe another). */
  claimMasterKey(id: string): Promise<string>;
  /** The subject's newest live key, undefined when it has none (never had one, or all were erased). */
  currentKey(subject: string): Promise<DataKeyRow | undefined>;
  /** A key by id, live or erased; undefined when unknown. */
  keyById(keyId: string): Promise<DataKeyRow | undefined>;
  /**
   * Adds a key as the subject's next version. With `onlyIfNone`, only when the subject has no live key
   * (two publishers creating a subject's first key agree on one). Answers the subject's current key after.
   */
  addKey(key: NewDataKey, options: { onlyIfNone: boolean }): Promise<DataKeyRow>;
  /** Destroys every key of the subject (the wrapped bytes are overwritten); answers how many were live. */
  erase(subject: string): Promise<number>;
  /**
   * Rewraps every live key in one transaction: `rewrap(row)` gives its new wrapped bytes; the store's master
   * key becomes `newMasterKeyId`. Answers how many keys were rewrapped.
   */
  rewrapAll(rewrap: (row: DataKeyRow) => Buffer, newMasterKeyId: string): Promise<number>;
  close(): Promise<void>;
}

/** Longest subject accepted, in UTF-16 code units. */
export const MAX_SUBJECT_LENGTH = 1000;
