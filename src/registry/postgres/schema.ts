import type { Sql } from 'postgres';
import type { Migration } from '../../sql/migration.ts';
import { type PostgresMigrationSet, runPostgresMigrations } from '../../sql/postgres/migration-runner.ts';
import { registrySchema } from '../errors.ts';

/** The registry's tables on PostgreSQL; `__schema__` stands for the (quoted) schema. Append only. */
export const postgresRegistryMigrations: readonly Migration[] = [
  {
    version: 1,
    description: 'schemas by global id, subject versions, references, settings',
    sql: `
      -- One row per distinct schema (type, text and references): its id is global and never reused.
      CREATE TABLE __schema__.registry_schemas (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        fingerprint text NOT NULL UNIQUE,
        schema_type text NOT NULL,
        schema text NOT NULL,
        refs text NOT NULL
      );
      CREATE TABLE __schema__.registry_versions (
        subject text NOT NULL,
        version integer NOT NULL,
        schema_id bigint NOT NULL REFERENCES __schema__.registry_schemas (id),
        deleted boolean NOT NULL DEFAULT false,
        registered_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (subject, version)
      );
      CREATE INDEX registry_versions_by_schema ON __schema__.registry_versions (schema_id);
      -- Which schema references which subject version: such a version cannot be deleted.
      CREATE TABLE __schema__.registry_references (
        schema_id bigint NOT NULL,
        subject text NOT NULL,
        version integer NOT NULL,
        PRIMARY KEY (schema_id, subject, version)
      );
      CREATE INDEX registry_references_by_target ON __schema__.registry_references (subject, version);
      -- Settings per subject; the empty subject holds the global ones.
      CREATE TABLE __schema__.registry_config (
        subject text PRIMARY KEY,
        compatibility text,
        mode text
      );
    `,
  },
];

const registrySet: PostgresMigrationSet = {
  table: 'registry_migrations',
  migrations: postgresRegistryMigrations,
  component: registrySchema,
  lockName: 'keel-registry-migrate',
};

/** Brings the schema's registry tables up to date (creating the schema when missing). */
export async function migratePostgresRegistry(sql: Sql, schema: string): Promise<void> {
  await runPostgresMigrations(sql, schema, registrySet);
}
