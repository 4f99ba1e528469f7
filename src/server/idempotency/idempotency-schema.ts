import type { MigrationSet } from '../../sql/migration.ts';

/**
 * Tables of the HTTP API's idempotent publish, kept in the node's SQLite file. Append only: a shipped
 * migration has run on users' files.
 */
export const idempotencyMigrations: MigrationSet = {
  table: 'api_idempotency_migrations',
  component: { name: 'idempotent publish', code: 'KEEL_API_IDEMPOTENCY_SCHEMA' },
  migrations: [
    {
      version: 1,
      description: 'published (source, id) pairs: content hash, receipt, reservation and expiry',
      sql: `CREATE TABLE api_idempotency (
  source TEXT NOT NULL,
  id TEXT NOT NULL,
  hash TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'done')),
  token TEXT,
  receipt TEXT,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (source, id)
) STRICT, WITHOUT ROWID;
CREATE INDEX api_idempotency_expiry ON api_idempotency (expires_at);`,
    },
  ],
};
