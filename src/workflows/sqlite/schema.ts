import type { Database } from 'better-sqlite3';
import type { Migration, MigrationSet } from '../../sql/migration.ts';
import { runSqliteMigrations } from '../../sql/sqlite/migration-runner.ts';
import { workflowSchema } from '../errors.ts';

/**
 * The workflow tables on SQLite, oldest step first, beside the event store's `store_` tables in one
 * file. Append only: a shipped step has run on users' files. Times are milliseconds since the epoch.
 */
export const sqliteWorkflowMigrations: readonly Migration[] = [
  {
    version: 1,
    description: 'instances with leases and timers, inbox, reply waits',
    sql: `
      -- One row per instance: what list() shows and what the engine schedules by. wake_at is when the
      -- instance is next due (a timer, a retry, or the end of its lease while a process holds it).
      CREATE TABLE workflow_instances (
        instance_id TEXT PRIMARY KEY,
        workflow_id TEXT NOT NULL,
        workflow_version INTEGER NOT NULL,
        definition_key TEXT NOT NULL,
        tenant_id TEXT NOT NULL,
        stream_id TEXT NOT NULL,
        status TEXT NOT NULL,
        step TEXT,
        stream_version INTEGER NOT NULL,
        wake_at INTEGER,
        sla_deadline INTEGER,
        sla_breached INTEGER NOT NULL DEFAULT 0,
        cancel_requested INTEGER NOT NULL DEFAULT 0,
        inbox_version INTEGER NOT NULL DEFAULT 0,
        inbox_seen INTEGER NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_until INTEGER,
        lease_epoch INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        ended_at INTEGER
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX workflow_instances_due ON workflow_instances (wake_at) WHERE wake_at IS NOT NULL;
      CREATE INDEX workflow_instances_by_status ON workflow_instances (status, workflow_id, created_at);
      CREATE INDEX workflow_instances_by_sla ON workflow_instances (sla_deadline)
        WHERE sla_deadline IS NOT NULL AND ended_at IS NULL;

      -- Signals, replies, cancels and resumes on their way to an instance; deleted once acted on.
      CREATE TABLE workflow_inbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        instance_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        payload TEXT,
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX workflow_inbox_by_instance ON workflow_inbox (instance_id, id);

      -- Which instance waits for a reply with this correlation key (a command's event id).
      CREATE TABLE workflow_waits (
        correlation_key TEXT PRIMARY KEY,
        instance_id TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX workflow_waits_by_instance ON workflow_waits (instance_id);
    `,
  },
];

const workflowSet: MigrationSet = {
  table: 'workflow_migrations',
  migrations: sqliteWorkflowMigrations,
  component: workflowSchema,
};

/** Brings the file's workflow tables up to date under BEGIN IMMEDIATE (one migrating process at a time). */
export function migrateSqliteWorkflows(db: Database): void {
  runSqliteMigrations(db, workflowSet);
}
