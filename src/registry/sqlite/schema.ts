import type { Database } from 'better-sqlite3';
import type { Migration, MigrationSet } from '../../sql/migration.ts';
import { runSqliteMigrations } from '../../sql/sqlite/migration-runner.ts';
import { registrySchema } from '../errors.ts';

/** The registry's tables on SQLite, beside the event store's in one file. Append only. */
export const sqliteRegistryMigrations: readonly Migration[] = [
  {
    version: 1,
    description: 'schemas by global id, subject versions, references, settings',
    sql: `
      -- One row per distinct schema (type, text and references): its id is global and never reused.
      CREATE TABLE registry_schemas (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        fingerprint TEXT NOT NULL UNIQUE,
        schema_type TEXT NOT NULL,
        schema TEXT NOT NULL,
        refs TEXT NOT NULL
      ) STRICT;
      CREATE TABLE registry_versions (
        subject TEXT NOT NULL,
        version INTEGER NOT NULL,
        schema_id INTEGER NOT NULL REFERENCES registry_schemas (id),
        deleted INTEGER NOT NULL DEFAULT 0,
        registered_at INTEGER NOT NULL,
        PRIMARY KEY (subject, version)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX registry_versions_by_schema ON registry_versions (schema_id);
      -- Which schema references which subject version: such a version cannot be deleted.
      CREATE TABLE registry_references (
        schema_id INTEGER NOT NULL,
        subject TEXT NOT NULL,
        version INTEGER NOT NULL,
        PRIMARY KEY (schema_id, subject, version)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX registry_references_by_target ON registry_references (subject, version);
      -- Settings per subject; the empty subject holds the global ones.
      CREATE TABLE registry_config (
        subject TEXT PRIMARY KEY,
        compatibility TEXT,
        mode TEXT
      ) STRICT, WITHOUT ROWID;
    `,
  },
];

const registrySet: MigrationSet = {
  table: 'registry_migrations',
  migrations: sqliteRegistryMigrations,
  component: registrySchema,
};

/** Brings the file's registry tables up to date. */
export function migrateSqliteRegistry(db: Database): void {
  runSqliteMigrations(db, registrySet);
}
