import type { MigrationSet } from '../sql/migration.ts';

/**
 * Tables of push delivery, kept in the node's SQLite file: the subscriptions and the attempts made. Append
 * only: a shipped migration has run on users' files.
 */
export const deliveryMigrations: MigrationSet = {
  table: 'delivery_migrations',
  component: { name: 'push delivery', code: 'KEEL_DELIVERY_SCHEMA' },
  migrations: [
    {
      version: 1,
      description: 'subscriptions (spec, status) and delivery attempts',
      sql: `CREATE TABLE delivery_subscriptions (
  name TEXT PRIMARY KEY,
  spec TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
  disabled_reason TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE TABLE delivery_attempts (
  id INTEGER PRIMARY KEY,
  subscription TEXT NOT NULL,
  event_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  partition_key TEXT,
  kind TEXT NOT NULL CHECK (kind IN ('live', 'replay')),
  outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'failed', 'gone')),
  status INTEGER,
  latency_ms REAL NOT NULL,
  excerpt TEXT NOT NULL,
  error TEXT,
  at INTEGER NOT NULL
) STRICT;
CREATE INDEX delivery_attempts_by_subscription ON delivery_attempts (subscription, id);
CREATE INDEX delivery_attempts_by_event ON delivery_attempts (subscription, event_id);
CREATE INDEX delivery_attempts_by_time ON delivery_attempts (at);`,
    },
  ],
};
