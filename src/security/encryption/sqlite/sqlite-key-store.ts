import type { Database } from 'better-sqlite3';
import { runSqliteMigrations } from '../../../sql/sqlite/migration-runner.ts';
import { openSqlite } from '../../../sql/sqlite/open-sqlite.ts';
import type { DataKeyRow, KeyStore } from '../key-store.ts';
import { keyStoreSchema } from '../key-store-schema.ts';

/** Where the SQLite key store lives. */
export interface SqliteKeyStoreOptions {
  /** File path (e.g. the node's `keel.db`, or a file of its own), or `:memory:` in tests. */
  path: string;
}

interface KeyRecord {
  key_id: string;
  subject: string;
  version: number;
  wrapped: Buffer | null;
  master_key_id: string | null;
  created_at: number;
  erased_at: number | null;
}

const rowOf = (record: KeyRecord | undefined): DataKeyRow | undefined =>
  record === undefined
    ? undefined
    : {
        keyId: record.key_id,
        subject: record.subject,
        version: record.version,
        wrapped: record.wrapped ?? undefined,
        masterKeyId: record.master_key_id ?? undefined,
        createdAt: new Date(record.created_at),
        erasedAt: record.erased_at === null ? undefined : new Date(record.erased_at),
      };

const MIGRATIONS = {
  table: 'phi_key_migrations',
  component: keyStoreSchema,
  migrations: [
    {
      version: 1,
      description: 'data keys and the master key fingerprint',
      sql: `CREATE TABLE phi_keys (
  key_id TEXT PRIMARY KEY,
  subject TEXT NOT NULL,
  version INTEGER NOT NULL,
  wrapped BLOB,
  master_key_id TEXT,
  created_at INTEGER NOT NULL,
  erased_at INTEGER,
  UNIQUE (subject, version)
) STRICT;
CREATE TABLE phi_keyring (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  master_key_id TEXT NOT NULL
) STRICT;`,
    },
  ],
};

/** A key store in a SQLite file; erased keys are overwritten on disk too (`secure_delete`). */
export function createSqliteKeyStore(options: SqliteKeyStoreOptions): KeyStore {
  let db: Database | undefined;
  const open = (): Database => {
    if (db === undefined) throw new Error('sqlite key store: call start() first');
    return db;
  };
  const current = (subject: string) =>
    rowOf(
      open()
        .prepare(
          'SELECT * FROM phi_keys WHERE subject = ? AND wrapped IS NOT NULL ORDER BY version DESC LIMIT 1',
        )
        .get(subject) as KeyRecord | undefined,
    );

  return {
    async start() {
      db ??= openSqlite({
        path: options.path,
        prepare: (opened) => {
          // Overwrite deleted and updated content with zeros: an erased key must not linger in free pages.
          opened.pragma('secure_delete = ON');
          runSqliteMigrations(opened, MIGRATIONS);
        },
      });
    },

    async masterKeyId() {
      const row = open().prepare('SELECT master_key_id FROM phi_keyring').get() as
        | { master_key_id: string }
        | undefined;
      return row?.master_key_id;
    },

    async claimMasterKey(id) {
      const database = open();
      database.prepare('INSERT OR IGNORE INTO phi_keyring (singleton, master_key_id) VALUES (1, ?)').run(id);
      return (database.prepare('SELECT master_key_id FROM phi_keyring').get() as { master_key_id: string })
        .master_key_id;
    },

    currentKey: async (subject) => current(subject),

    keyById: async (keyId) =>
      rowOf(open().prepare('SELECT * FROM phi_keys WHERE key_id = ?').get(keyId) as KeyRecord | undefined),

    async addKey(key, { onlyIfNone }) {
      const database = open();
      return database
        .transaction(() => {
          const live = current(key.subject);
          if (onlyIfNone && live !== undefined) return live;
          database
            .prepare(
              `INSERT INTO phi_keys (key_id, subject, version, wrapped, master_key_id, created_at)
             SELECT ?, ?, COALESCE(MAX(version), 0) + 1, ?, ?, ? FROM phi_keys WHERE subject = ?`,
            )
            .run(key.keyId, key.subject, key.wrapped, key.masterKeyId, Date.now(), key.subject);
          return current(key.subject)!;
        })
        .immediate();
    },

    async erase(subject) {
      return open()
        .prepare(
          `UPDATE phi_keys SET wrapped = NULL, master_key_id = NULL, erased_at = ?
           WHERE subject = ? AND wrapped IS NOT NULL`,
        )
        .run(Date.now(), subject).changes;
    },

    async rewrapAll(rewrap, newMasterKeyId) {
      const database = open();
      return database
        .transaction(() => {
          const live = database
            .prepare('SELECT * FROM phi_keys WHERE wrapped IS NOT NULL')
            .all() as KeyRecord[];
          const update = database.prepare(
            'UPDATE phi_keys SET wrapped = ?, master_key_id = ? WHERE key_id = ?',
          );
          for (const record of live) update.run(rewrap(rowOf(record)!), newMasterKeyId, record.key_id);
          database
            .prepare(
              `INSERT INTO phi_keyring (singleton, master_key_id) VALUES (1, ?)
             ON CONFLICT (singleton) DO UPDATE SET master_key_id = excluded.master_key_id`,
            )
            .run(newMasterKeyId);
          return live.length;
        })
        .immediate();
    },

    async close() {
      db?.close();
      db = undefined;
    },
  };
}
