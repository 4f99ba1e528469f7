import type { Sql } from 'postgres';
import type { Migration } from '../../sql/migration.ts';
import { type PostgresMigrationSet, runPostgresMigrations } from '../../sql/postgres/migration-runner.ts';
import { workflowSchema } from '../errors.ts';

/**
 * The workflow tables on PostgreSQL, oldest step first; `__schema__` stands for the (quoted) schema the
 * event store uses. Append only. Times are milliseconds since the epoch (bigint).
 */
export const postgresWorkflowMigrations: readonly Migration[] = [
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

const workflowSet: PostgresMigrationSet = {
  table: 'workflow_migrations',
  lockName: 'keel.workflows.migrate',
  migrations: postgresWorkflowMigrations,
  component: workflowSchema,
};

/**
 * Brings the schema's workflow tables up to date, creating the schema when missing: one read when they
 * are, else one transaction under an advisory lock so processes starting together migrate once.
 */
export function migratePostgresWorkflows(sql: Sql, schema: string): Promise<void> {
  return runPostgresMigrations(sql, schema, workflowSet);
}
