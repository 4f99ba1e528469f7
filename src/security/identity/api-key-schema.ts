import type { MigrationSet } from '../../sql/migration.ts';

/** Tables of the API keys, in the node's `security.db`. Append only: a shipped migration has run on users' files. */
export const apiKeyMigrations: MigrationSet = {
  table: 'security_migrations',
  component: { name: 'API keys', code: 'KEEL_API_KEY_SCHEMA' },
  migrations: [
    {
      version: 1,
      description: 'API keys: prefix, hash of the whole key, name, roles and scopes, expiry, revocation',
      sql: `CREATE TABLE api_keys (
  prefix TEXT PRIMARY KEY,
  hash TEXT NOT NULL,
  name TEXT NOT NULL,
  roles TEXT NOT NULL,
  tenants TEXT NOT NULL,
  topics TEXT NOT NULL,
  types TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  revoked_at INTEGER
) STRICT, WITHOUT ROWID;`,
    },
  ],
};
