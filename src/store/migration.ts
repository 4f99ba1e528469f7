import { createHash } from 'node:crypto';

/** One step of an adapter's store schema. Append only: a shipped migration has run on users' databases. */
export interface StoreMigration {
  /** 1, 2, 3, ... in order. */
  version: number;
  description: string;
  /** Statements; on PostgreSQL `__schema__` stands for the store's (quoted) schema. */
  sql: string;
}

/** SHA-256 (hex) of a migration's SQL, recorded when it is applied so later edits are caught. */
export function migrationChecksum(migration: StoreMigration): string {
  return createHash('sha256').update(migration.sql).digest('hex');
}

/** Why a database's recorded migrations cannot be used by this code. */
export type MigrationProblem = 'newer_version' | 'modified_migration';

/** Makes the owning component's typed error (StoreSchemaError, WorkflowSchemaError) for one bad row. */
export type MigrationErrorFactory = (location: string, found: number, problem: MigrationProblem) => Error;

/** One row of a `*_migrations` tracking table. */
export interface AppliedMigration {
  version: number;
  checksum: string;
}

/** One component's schema as a runner migrates it: its steps, tracking table and error. */
export interface MigrationSet {
  /** Tracking table, e.g. `store_migrations`; a fixed name from the code, never user input. */
  table: string;
  migrations: readonly StoreMigration[];
  error: MigrationErrorFactory;
}

/**
 * Throws the set's error for a step this code does not know (a newer Keel wrote it) or whose SQL
 * changed since it ran, before anything is migrated on top of a schema this code cannot vouch for.
 */
export function checkApplied(set: MigrationSet, location: string, rows: readonly AppliedMigration[]): void {
  for (const row of rows) {
    const known = set.migrations.find((m) => m.version === row.version);
    if (known === undefined) throw set.error(location, row.version, 'newer_version');
    if (migrationChecksum(known) !== row.checksum) {
      throw set.error(location, row.version, 'modified_migration');
    }
  }
}
