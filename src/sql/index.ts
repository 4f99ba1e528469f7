export {
  type AppliedMigration,
  checkApplied,
  type Migration,
  type MigrationSet,
  migrationChecksum,
  newestVersion,
} from './migration.ts';
export {
  migrationSql,
  type PostgresMigrationSet,
  quoteIdentifier,
  runPostgresMigrations,
} from './postgres/migration-runner.ts';
export { type MigrationProblem, type SchemaComponent, SchemaError } from './schema-error.ts';
export { runSqliteMigrations } from './sqlite/migration-runner.ts';
export { type OpenSqliteOptions, openSqlite } from './sqlite/open-sqlite.ts';
