import type { Sql } from 'postgres';
import type { Migration } from '../../sql/migration.ts';
import { type PostgresMigrationSet, runPostgresMigrations } from '../../sql/postgres/migration-runner.ts';
import { storeSchema } from '../errors.ts';
import { APPEND_FUNCTION } from './sql/append.ts';
import { APPEND_BATCH_FUNCTION } from './sql/append-batch.ts';
import { APPEND_BATCH_WITH_STREAM_LOCKS_FUNCTION } from './sql/append-batch-stream-locks.ts';

/**
 * Every store schema step on PostgreSQL, oldest first; `__schema__` stands for the store's quoted schema.
 * Append only: a shipped migration has run on users' databases (a test pins each step's SHA-256).
 */
export const postgresMigrations: readonly Migration[] = [
  {
    version: 1,
    description: 'streams, events in commit-safe order, and the append function',
    sql: `
      -- One row per stream: its owner and version; its row lock serializes the stream's appends.
      CREATE TABLE __schema__.store_streams (
        stream_id text PRIMARY KEY,
        tenant_id text NOT NULL,
        version bigint NOT NULL CHECK (version >= 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      -- transaction_id is the writer's pg_current_xact_id(): readers order and resume by
      -- (transaction_id, position) and read only transactions older than any still running.
      -- The event is json, not jsonb: stored as written, and cheaper to write and to read back as text.
      CREATE TABLE __schema__.store_events (
        position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        stream_id text NOT NULL,
        version bigint NOT NULL,
        tenant_id text NOT NULL,
        event_id text NOT NULL,
        type text NOT NULL,
        correlation_id text,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        event json NOT NULL,
        CONSTRAINT store_events_event_id_key UNIQUE (event_id),
        CONSTRAINT store_events_stream_version_key UNIQUE (stream_id, version)
      );

      CREATE INDEX store_events_commit_order ON __schema__.store_events (transaction_id, position);
      CREATE INDEX store_events_by_tenant ON __schema__.store_events (tenant_id, transaction_id, position);
      CREATE INDEX store_events_by_type ON __schema__.store_events (type, transaction_id, position);
      CREATE INDEX store_events_by_correlation ON __schema__.store_events (correlation_id, transaction_id, position)
        WHERE correlation_id IS NOT NULL;
      ${APPEND_FUNCTION}
    `,
  },
  {
    version: 2,
    description: 'tombstones, snapshots, outbox, projection checkpoints, and the batch append function',
    sql: `
      -- A deleted stream keeps its row (and its events, for audit and replay); a re-created one hides
      -- the versions up to deleted_version from stream reads.
      ALTER TABLE __schema__.store_streams
        ADD COLUMN deleted_at timestamptz,
        ADD COLUMN deleted_version bigint NOT NULL DEFAULT 0;

      -- The latest snapshot per stream and aggregate type; state_version is the state's shape.
      CREATE TABLE __schema__.store_snapshots (
        stream_id text NOT NULL,
        name text NOT NULL,
        tenant_id text NOT NULL,
        stream_version bigint NOT NULL,
        state_version integer NOT NULL,
        state json NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (stream_id, name)
      );

      -- Written by the append's own statement; a relay publishes rows in id order and marks them sent.
      -- The event is copied so archiving the events table never takes an unsent event away.
      CREATE TABLE __schema__.store_outbox (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        event_id text NOT NULL,
        stream_id text NOT NULL,
        version bigint NOT NULL,
        position bigint NOT NULL,
        tenant_id text NOT NULL,
        topic text,
        event json NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        sent_at timestamptz
      );
      CREATE INDEX store_outbox_pending ON __schema__.store_outbox (id) WHERE sent_at IS NULL;

      -- Async projections: the live table's generation and checkpoint, and a rebuild's while it runs.
      CREATE TABLE __schema__.store_projections (
        name text NOT NULL,
        scope text NOT NULL,
        generation integer NOT NULL,
        checkpoint text,
        rebuild_generation integer,
        rebuild_checkpoint text,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (name, scope)
      );

      -- Tenant filters of other tenants than 'default' (the one single-tenant deployments write) use it;
      -- rows of 'default' stay out of it, so a single-tenant store pays nothing for it on append.
      DROP INDEX __schema__.store_events_by_tenant;
      CREATE INDEX store_events_by_tenant ON __schema__.store_events (tenant_id, transaction_id, position)
        WHERE tenant_id <> 'default';

      DROP FUNCTION __schema__.store_append(text, text, text, text, bigint, text[], text[], text[], text[]);
      ${APPEND_BATCH_FUNCTION}
    `,
  },
  {
    version: 3,
    description: "the batch append takes its streams' locks before it gets a transaction id",
    sql: `
      -- The global order follows each stream's versions: see sql/append-batch-stream-locks.ts.
      ${APPEND_BATCH_WITH_STREAM_LOCKS_FUNCTION}
    `,
  },
  {
    version: 4,
    description: 'row-level security: a transaction that names a tenant (keel.tenant) sees only its rows',
    sql: `
      -- Tenant-scoped reads set keel.tenant for their transaction (SET LOCAL): PostgreSQL then keeps
      -- every other tenant's rows out of them, whatever the statement's own filter says. Unset (or empty),
      -- as on the store's whole-store reads, appends and relays, every row is visible. FORCE: the tables'
      -- owner is held to the policies too (superusers and BYPASSRLS roles never are). The setting is read
      -- in a sub-select: evaluated once per statement (an InitPlan), not once per row.
      ${['store_streams', 'store_events', 'store_snapshots', 'store_outbox']
        .map(
          (table) => `
      ALTER TABLE __schema__.${table} ENABLE ROW LEVEL SECURITY;
      ALTER TABLE __schema__.${table} FORCE ROW LEVEL SECURITY;
      CREATE POLICY ${table}_tenant ON __schema__.${table}
        USING ((SELECT COALESCE(current_setting('keel.tenant', true), '')) IN ('', tenant_id))
        WITH CHECK ((SELECT COALESCE(current_setting('keel.tenant', true), '')) IN ('', tenant_id));`,
        )
        .join('\n')}
    `,
  },
];

/** Newest store schema version this code writes and expects. */
export const postgresSchemaVersion: number = postgresMigrations.at(-1)?.version ?? 0;

/** Re-exported so the store's queries and tests keep importing identifiers and SQL from the schema. */
export { migrationSql, quoteIdentifier } from '../../sql/postgres/migration-runner.ts';

const storeSet: PostgresMigrationSet = {
  table: 'store_migrations',
  lockName: 'keel.store.migrate',
  migrations: postgresMigrations,
  component: storeSchema,
};

/**
 * Brings the schema's store tables to `postgresSchemaVersion`, creating the schema when missing. An
 * up-to-date schema costs one read; otherwise it migrates in one transaction under an advisory lock, so
 * processes starting together do not migrate twice.
 */
export function migratePostgresStore(sql: Sql, schema: string): Promise<void> {
  return runPostgresMigrations(sql, schema, storeSet);
}
