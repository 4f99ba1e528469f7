import type { Sql, TransactionSql } from 'postgres';
import {
  type AppliedMigration,
  checkApplied,
  type Migration,
  type MigrationSet,
  migrationChecksum,
} from '../migration.ts';

/** A migration set on PostgreSQL: also names the advisory lock its migrating processes queue on. */
export interface PostgresMigrationSet extends MigrationSet {
  /** The lock is `hashtext('<lockName>:<schema>')`, so components and schemas migrate independently. */
  lockName: string;
}

/** `name` as a quoted identifier; names are checked (`[a-z_][a-z0-9_]*`) before they get here. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The migration's SQL for one schema. */
export function migrationSql(migration: Migration, schema: string): string {
  return migration.sql.replaceAll('__schema__', quoteIdentifier(schema));
}

const UNDEFINED_TABLE = '42P01';
const INVALID_SCHEMA_NAME = '3F000';

/**
 * Brings the set's tables in `schema` up to date, creating the schema when missing. An up-to-date schema
 * costs one read; otherwise it migrates in one transaction under an advisory lock, so processes starting
 * together do not migrate twice.
 */
export async function runPostgresMigrations(
  sql: Sql,
  schema: string,
  set: PostgresMigrationSet,
): Promise<void> {
  const q = quoteIdentifier(schema);
  const applied = async (run: Sql | TransactionSql): Promise<AppliedMigration[]> =>
    (await run.unsafe(`SELECT version, checksum FROM ${q}.${set.table} ORDER BY version`)).map((r) => ({
      version: Number(r.version),
      checksum: String(r.checksum),
    }));
  try {
    const rows = await applied(sql);
    checkApplied(set, schema, rows);
    if (rows.length === set.migrations.length) return;
  } catch (error) {
    // A schema or tracking table that does not exist yet is a fresh database: migrate it below.
    const code = (error as { code?: string }).code;
    if (code !== UNDEFINED_TABLE && code !== INVALID_SCHEMA_NAME) throw error;
  }
  await sql.begin(async (tx) => {
    await tx.unsafe('SELECT pg_advisory_xact_lock(hashtext($1))', [`${set.lockName}:${schema}`]);
    await tx.unsafe(`CREATE SCHEMA IF NOT EXISTS ${q}`);
    await tx.unsafe(`CREATE TABLE IF NOT EXISTS ${q}.${set.table} (
      version integer PRIMARY KEY,
      description text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    // Read again under the lock: another process may have migrated since the first read.
    const rows = await applied(tx);
    checkApplied(set, schema, rows);
    const done = new Set(rows.map((r) => r.version));
    for (const migration of set.migrations) {
      if (done.has(migration.version)) continue;
      await tx.unsafe(migrationSql(migration, schema));
      await tx.unsafe(`INSERT INTO ${q}.${set.table} (version, description, checksum) VALUES ($1, $2, $3)`, [
        migration.version,
        migration.description,
        migrationChecksum(migration),
      ]);
    }
  });
}
