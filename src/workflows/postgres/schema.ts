import type { Sql, TransactionSql } from 'postgres';
import { migrationChecksum, type StoreMigration } from '../../store/migration.ts';
import { WorkflowSchemaError } from '../errors.ts';

/**
 * The workflow tables on PostgreSQL, oldest step first; `__schema__` stands for the (quoted) schema the
 * event store uses. Append only. Times are milliseconds since the epoch (bigint).
 */
export const postgresWorkflowMigrations: readonly StoreMigration[] = [
  {
    version: 1,
    description: 'instances with leases and timers, inbox, reply waits',
    sql: `
      -- One row per instance: what list() shows and what engines schedule and lease by. wake_at is when
      -- the instance is next due (a timer, a retry, or the end of its lease while a process holds it).
      CREATE TABLE __schema__.workflow_instances (
        instance_id text PRIMARY KEY,
        workflow_id text NOT NULL,
        workflow_version integer NOT NULL,
        definition_key text NOT NULL,
        tenant_id text NOT NULL,
        stream_id text NOT NULL,
        status text NOT NULL,
        step text,
        stream_version integer NOT NULL,
        wake_at bigint,
        sla_deadline bigint,
        sla_breached boolean NOT NULL DEFAULT false,
        cancel_requested boolean NOT NULL DEFAULT false,
        inbox_version bigint NOT NULL DEFAULT 0,
        inbox_seen bigint NOT NULL DEFAULT 0,
        lease_owner text,
        lease_until bigint,
        lease_epoch bigint NOT NULL DEFAULT 0,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL,
        ended_at bigint
      );
      CREATE INDEX workflow_instances_due ON __schema__.workflow_instances (wake_at) WHERE wake_at IS NOT NULL;
      CREATE INDEX workflow_instances_by_status ON __schema__.workflow_instances (status, workflow_id, created_at);
      CREATE INDEX workflow_instances_by_sla ON __schema__.workflow_instances (sla_deadline)
        WHERE sla_deadline IS NOT NULL AND ended_at IS NULL;
      CREATE INDEX workflow_instances_by_owner ON __schema__.workflow_instances (lease_owner)
        WHERE lease_owner IS NOT NULL;

      -- Signals, replies, cancels and resumes on their way to an instance; deleted once acted on.
      CREATE TABLE __schema__.workflow_inbox (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        instance_id text NOT NULL,
        kind text NOT NULL,
        name text NOT NULL,
        payload text,
        created_at bigint NOT NULL
      );
      CREATE INDEX workflow_inbox_by_instance ON __schema__.workflow_inbox (instance_id, id);

      -- Which instance waits for a reply with this correlation key (a command's event id).
      CREATE TABLE __schema__.workflow_waits (
        correlation_key text PRIMARY KEY,
        instance_id text NOT NULL,
        created_at bigint NOT NULL
      );
      CREATE INDEX workflow_waits_by_instance ON __schema__.workflow_waits (instance_id);
    `,
  },
];

/** `name` as a quoted identifier (names are checked to be `[a-z_][a-z0-9_]*` before they get here). */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

type Applied = { version: number; checksum: string }[];

function check(schema: string, rows: Applied): void {
  const supported = postgresWorkflowMigrations.length;
  for (const row of rows) {
    const known = postgresWorkflowMigrations.find((m) => m.version === row.version);
    if (known === undefined) throw new WorkflowSchemaError(schema, row.version, supported, 'newer_version');
    if (migrationChecksum(known) !== row.checksum) {
      throw new WorkflowSchemaError(schema, row.version, supported, 'modified_migration');
    }
  }
}

const UNDEFINED_TABLE = '42P01';
const INVALID_SCHEMA_NAME = '3F000';

/**
 * Brings the schema's workflow tables up to date, creating the schema when missing: one read when they
 * are, else one transaction under an advisory lock so processes starting together migrate once.
 */
export async function migratePostgresWorkflows(sql: Sql, schema: string): Promise<void> {
  const q = quoteIdentifier(schema);
  const applied = async (run: Sql | TransactionSql): Promise<Applied> =>
    (await run.unsafe(`SELECT version, checksum FROM ${q}.workflow_migrations ORDER BY version`)).map(
      (r) => ({
        version: Number(r.version),
        checksum: String(r.checksum),
      }),
    );
  try {
    const rows = await applied(sql);
    check(schema, rows);
    if (rows.length === postgresWorkflowMigrations.length) return;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== UNDEFINED_TABLE && code !== INVALID_SCHEMA_NAME) throw error;
  }
  await sql.begin(async (tx) => {
    await tx.unsafe('SELECT pg_advisory_xact_lock(hashtext($1))', [`keel.workflows.migrate:${schema}`]);
    await tx.unsafe(`CREATE SCHEMA IF NOT EXISTS ${q}`);
    await tx.unsafe(`CREATE TABLE IF NOT EXISTS ${q}.workflow_migrations (
      version integer PRIMARY KEY,
      description text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const rows = await applied(tx);
    check(schema, rows);
    const done = new Set(rows.map((r) => r.version));
    for (const migration of postgresWorkflowMigrations) {
      if (done.has(migration.version)) continue;
      await tx.unsafe(migration.sql.replaceAll('__schema__', q));
      await tx.unsafe(
        `INSERT INTO ${q}.workflow_migrations (version, description, checksum) VALUES ($1, $2, $3)`,
        [migration.version, migration.description, migrationChecksum(migration)],
      );
    }
  });
}
