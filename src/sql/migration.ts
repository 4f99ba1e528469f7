import { createHash } from 'node:crypto';
import { type SchemaComponent, SchemaError } from './schema-error.ts';

/** One step of a component's schema (event store, workflows, ...). Append only: a shipped migration has run on users' databases. */
export interface Migration {
  /** 1, 2, 3, ... in order. */
  version: number;
  description: string;
  /** Statements; on PostgreSQL `__schema__` stands for the store's (quoted) schema. */
  sql: string;
}

/** SHA-256 (hex) of a migration's SQL, recorded when it is applied so later edits are caught. */
export function migrationChecksum(migration: Migration): string {
  return createHash('sha256').update(migration.sql).digest('hex');
}

/** One row of a `*_migrations` tracking table. */
export interface AppliedMigration {
  version: number;
  checksum: string;
}

/** One component's schema as a runner migrates it: its steps, tracking table and error. */
export interface MigrationSet {
  /** Tracking table, e.g. `store_migrations`; a fixed name from the code, never user input. */
  table: string;
  migrations: readonly Migration[];
  /** Which schema this is; names it in errors. */
  component: SchemaComponent;
}

/** Newest migration version of the set. */
export function newestVersion(set: MigrationSet): number {
  return set.migrations.at(-1)?.version ?? 0;
}

/**
 * Throws SchemaError for a step this code does not know (a newer Keel wrote it) or whose SQL
 * changed since it ran, before anything is migrated on top of a schema this code cannot vouch for.
 */
export function checkApplied(set: MigrationSet, location: string, rows: readonly AppliedMigration[]): void {
  for (const row of rows) {
    const known = set.migrations.find((m) => m.version === row.version);
    if (known === undefined)
      throw new SchemaError(set.component, location, row.version, newestVersion(set), 'newer_version');
    if (migrationChecksum(known) !== row.checksum) {
      throw new SchemaError(set.component, location, row.version, newestVersion(set), 'modified_migration');
    }
  }
}
