import type { Database } from 'better-sqlite3';
import type { Migration, MigrationSet } from '../../sql/migration.ts';
import { runSqliteMigrations } from '../../sql/sqlite/migration-runner.ts';
import { storeSchema } from '../errors.ts';

/**
 * Every store schema step on SQLite, oldest first. Tables are prefixed `store_` so the store can share a
 * file with the embedded transport, whose own version lives in `PRAGMA user_version`; the store tracks
 * its steps in `store_migrations` instead. Append only (a test pins each step's SHA-256).
 */
export const sqliteMigrations: readonly Migration[] = [
  {
    version: 1,
    description: 'streams and events',
    sql: `
      -- One row per stream: its owner and version, locked by the append's write transaction.
      CREATE TABLE store_streams (
        stream_id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL,
        version INTEGER NOT NULL CHECK (version >= 0),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;

      -- AUTOINCREMENT so a position is never reused, even after the newest events are removed:
      -- a reader's checkpoint must never fall behind a later event.
      CREATE TABLE store_events (
        position INTEGER PRIMARY KEY AUTOINCREMENT,
        stream_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        tenant_id TEXT NOT NULL,
        event_id TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        correlation_id TEXT,
        recorded_at INTEGER NOT NULL,
        event TEXT NOT NULL,
        UNIQUE (stream_id, version)
      ) STRICT;

      CREATE INDEX store_events_by_tenant ON store_events (tenant_id, position);
      CREATE INDEX store_events_by_type ON store_events (type, position);
      CREATE INDEX store_events_by_correlation ON store_events (correlation_id, position)
        WHERE correlation_id IS NOT NULL;
    `,
  },
  {
    version: 2,
    description: 'tombstones, snapshots, outbox, projection checkpoints and relay leases',
    sql: `
      -- A deleted stream keeps its row (and its events, for audit and replay); a re-created one hides
      -- the versions up to deleted_version from stream reads. deleted_at: milliseconds since the epoch.
      ALTER TABLE store_streams ADD COLUMN deleted_at INTEGER;
      ALTER TABLE store_streams ADD COLUMN deleted_version INTEGER NOT NULL DEFAULT 0;

      -- The latest snapshot per stream and aggregate type; state_version is the state's shape.
      CREATE TABLE store_snapshots (
        stream_id TEXT NOT NULL,
        name TEXT NOT NULL,
        tenant_id TEXT NOT NULL,
        stream_version INTEGER NOT NULL,
        state_version INTEGER NOT NULL,
        state TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (stream_id, name)
      ) STRICT, WITHOUT ROWID;

      -- Written in the append's transaction; a relay publishes rows in id order and marks them sent.
      CREATE TABLE store_outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL,
        stream_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        position INTEGER NOT NULL,
        tenant_id TEXT NOT NULL,
        topic TEXT,
        event TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        sent_at INTEGER
      ) STRICT;
      CREATE INDEX store_outbox_pending ON store_outbox (id) WHERE sent_at IS NULL;

      -- Async projections: the live table's generation and checkpoint, and a rebuild's while it runs.
      CREATE TABLE store_projections (
        name TEXT NOT NULL,
        scope TEXT NOT NULL,
        generation INTEGER NOT NULL,
        checkpoint TEXT,
        rebuild_generation INTEGER,
        rebuild_checkpoint TEXT,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (name, scope)
      ) STRICT, WITHOUT ROWID;

      -- One active outbox relay per name: the holder renews expires_at (epoch ms) while it runs.
      CREATE TABLE store_leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
    `,
  },
];

/** Newest store schema version this code writes and expects. */
export const sqliteSchemaVersion: number = sqliteMigrations.at(-1)?.version ?? 0;

const storeSet: MigrationSet = {
  table: 'store_migrations',
  migrations: sqliteMigrations,
  component: storeSchema,
};

/**
 * Brings the file's store tables to `sqliteSchemaVersion`. Reads first, so a connection to an up-to-date
 * file never takes the write lock; migrates under BEGIN IMMEDIATE so two processes do not both migrate.
 */
export function migrateSqliteStore(db: Database): void {
  runSqliteMigrations(db, storeSet);
}
