import postgres, { type Sql } from 'postgres';
import { quoteIdentifier, runPostgresMigrations } from '../../../sql/postgres/migration-runner.ts';
import type { DataKeyRow, KeyStore } from '../key-store.ts';
import { keyStoreSchema } from '../key-store-schema.ts';

/** Where the PostgreSQL key store lives: a connection string or a postgres.js instance, and a schema. */
export interface PostgresKeyStoreOptions {
  /** Connection string (`KEEL_POSTGRES_URL`); the store opens at most 2 connections. */
  url?: string;
  /** A postgres.js instance you hold, left open on close. */
  sql?: Sql;
  /** Schema of the key tables, created when missing; default `keel`. */
  schema?: string;
}

interface KeyRecord {
  key_id: string;
  subject: string;
  version: number;
  wrapped: Buffer | null;
  master_key_id: string | null;
  created_at: Date;
  erased_at: Date | null;
}

const rowOf = (record: KeyRecord | undefined): DataKeyRow | undefined =>
  record === undefined
    ? undefined
    : {
        keyId: record.key_id,
        subject: record.subject,
        version: Number(record.version),
        wrapped: record.wrapped ?? undefined,
        masterKeyId: record.master_key_id ?? undefined,
        createdAt: record.created_at,
        erasedAt: record.erased_at ?? undefined,
      };

const MIGRATIONS = {
  table: 'phi_key_migrations',
  lockName: 'keel.phi.migrate',
  component: keyStoreSchema,
  migrations: [
    {
      version: 1,
      description: 'data keys and the master key fingerprint',
      sql: `CREATE TABLE __schema__.phi_keys (
  key_id text PRIMARY KEY,
  subject text NOT NULL,
  version integer NOT NULL,
  wrapped bytea,
  master_key_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  erased_at timestamptz,
  UNIQUE (subject, version)
);
CREATE TABLE __schema__.phi_keyring (
  singleton integer PRIMARY KEY CHECK (singleton = 1),
  master_key_id text NOT NULL
);`,
    },
  ],
};

const UNIQUE_VIOLATION = '23505';

/**
 * A key store in a PostgreSQL schema. An erased key's row is overwritten and the table vacuumed, so the
 * old row version does not wait for autovacuum; WAL archives and backups keep it until they expire.
 */
export function createPostgresKeyStore(options: PostgresKeyStoreOptions): KeyStore {
  const schema = options.schema ?? 'keel';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new TypeError(`postgres key store: schema "${schema}" must be lower-case letters, digits and '_'`);
  }
  if ((options.url === undefined) === (options.sql === undefined)) {
    throw new TypeError('postgres key store: give exactly one of url or sql');
  }
  const sql = options.sql ?? postgres(options.url!, { max: 2, onnotice: () => {} });
  const keys = `${quoteIdentifier(schema)}.phi_keys`;
  const keyring = `${quoteIdentifier(schema)}.phi_keyring`;
  const current = async (run: Sql, subject: string) =>
    rowOf(
      (
        await run.unsafe<KeyRecord[]>(
          `SELECT * FROM ${keys} WHERE subject = $1 AND wrapped IS NOT NULL ORDER BY version DESC LIMIT 1`,
          [subject],
        )
      )[0],
    );

  const tryAdd = (key: Parameters<KeyStore['addKey']>[0], onlyIfNone: boolean) =>
    sql.begin(async (tx) => {
      // One writer per subject at a time: versions stay gapless and "only if none" holds.
      await tx.unsafe('SELECT pg_advisory_xact_lock(hashtext($1))', [`keel.phi:${key.subject}`]);
      const live = await current(tx as unknown as Sql, key.subject);
      if (onlyIfNone && live !== undefined) return live;
      await tx.unsafe(
        `INSERT INTO ${keys} (key_id, subject, version, wrapped, master_key_id)
         SELECT $1, $2, COALESCE(MAX(version), 0) + 1, $3, $4 FROM ${keys} WHERE subject = $2`,
        [key.keyId, key.subject, key.wrapped, key.masterKeyId],
      );
      return (await current(tx as unknown as Sql, key.subject))!;
    });

  return {
    start: () => runPostgresMigrations(sql, schema, MIGRATIONS),

    async masterKeyId() {
      const [row] = await sql.unsafe<{ master_key_id: string }[]>(`SELECT master_key_id FROM ${keyring}`);
      return row?.master_key_id;
    },

    async claimMasterKey(id) {
      await sql.unsafe(
        `INSERT INTO ${keyring} (singleton, master_key_id) VALUES (1, $1) ON CONFLICT (singleton) DO NOTHING`,
        [id],
      );
      const [row] = await sql.unsafe<{ master_key_id: string }[]>(`SELECT master_key_id FROM ${keyring}`);
      return row!.master_key_id;
    },

    currentKey: (subject) => current(sql, subject),

    async keyById(keyId) {
      return rowOf((await sql.unsafe<KeyRecord[]>(`SELECT * FROM ${keys} WHERE key_id = $1`, [keyId]))[0]);
    },

    async addKey(key, { onlyIfNone }) {
      try {
        return await tryAdd(key, onlyIfNone);
      } catch (error) {
        if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
        return tryAdd(key, onlyIfNone);
      }
    },

    async erase(subject) {
      const result = await sql.unsafe(
        `UPDATE ${keys} SET wrapped = NULL, master_key_id = NULL, erased_at = now()
         WHERE subject = $1 AND wrapped IS NOT NULL`,
        [subject],
      );
      // The old row versions still hold the wrapped keys until vacuumed: vacuum now, not whenever autovacuum runs.
      if (result.count > 0) await sql.unsafe(`VACUUM ${keys}`);
      return result.count;
    },

    rewrapAll: (rewrap, newMasterKeyId) =>
      sql.begin(async (tx) => {
        const live = await tx.unsafe<KeyRecord[]>(
          `SELECT * FROM ${keys} WHERE wrapped IS NOT NULL ORDER BY key_id FOR UPDATE`,
        );
        for (const record of live) {
          await tx.unsafe(`UPDATE ${keys} SET wrapped = $1, master_key_id = $2 WHERE key_id = $3`, [
            rewrap(rowOf(record)!),
            newMasterKeyId,
            record.key_id,
          ]);
        }
        await tx.unsafe(
          `INSERT INTO ${keyring} (singleton, master_key_id) VALUES (1, $1)
           ON CONFLICT (singleton) DO UPDATE SET master_key_id = excluded.master_key_id`,
          [newMasterKeyId],
        );
        return live.length;
      }),

    async close() {
      if (options.sql === undefined) await sql.end({ timeout: 5 });
    },
  };
}
