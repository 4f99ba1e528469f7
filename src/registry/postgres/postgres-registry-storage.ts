import postgres, { type Sql, type TransactionSql } from 'postgres';
import { z } from 'zod';
import { parseOptions } from '../../errors/options.ts';
import { quoteIdentifier } from '../../sql/postgres/migration-runner.ts';
import type {
  ConfigScope,
  NewSchema,
  Registration,
  RegistryStorage,
  StoredVersion,
} from '../registry-storage.ts';
import { toStoredVersion, versionColumns } from '../storage-rows.ts';
import type { CompatibilityLevel, RegistryMode } from '../types.ts';
import { migratePostgresRegistry } from './schema.ts';

/** Where the registry keeps its tables on PostgreSQL: beside the event store, in its schema. */
export type PostgresRegistryStorageOptions = {
  /** The event store's schema; default `keel`. */
  schema?: string;
  /** With `url`: most connections the storage opens; default 4. */
  maxConnections?: number;
} & ({ url: string; sql?: undefined } | { sql: Sql; url?: undefined });

const optionsSchema = z
  .object({
    schema: z
      .string({ error: 'expected a schema name' })
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, { error: "expected lower-case letters, digits and '_' (at most 63)" })
      .default('keel'),
    maxConnections: z
      .int({ error: 'expected an integer ≥ 1' })
      .min(1, { error: 'expected an integer ≥ 1' })
      .default(4),
    url: z.string({ error: 'expected a connection string' }).optional(),
    sql: z
      .custom<Sql>((value) => typeof value === 'function', { error: 'expected a postgres.js instance' })
      .optional(),
  })
  .refine((options) => options.url !== undefined || options.sql !== undefined, {
    error: 'expected a connection string (or a postgres.js instance in sql)',
    path: ['url'],
  });

type Run = Sql | TransactionSql;

/** The subject's versions with their schemas, oldest first. */
async function selectVersions(
  q: string,
  run: Run,
  subject: string,
  includeDeleted: boolean,
): Promise<StoredVersion[]> {
  return (
    await run.unsafe(
      `SELECT ${versionColumns} FROM ${q}.registry_versions v JOIN ${q}.registry_schemas s ON s.id = v.schema_id
         WHERE v.subject = $1 ${includeDeleted ? '' : 'AND NOT v.deleted'} ORDER BY v.version`,
      [subject],
    )
  ).map(toStoredVersion);
}
/** Adds the subject's next version, inserting the schema unless its fingerprint has an id already. */
async function insertVersion(
  q: string,
  tx: TransactionSql,
  subject: string,
  schema: NewSchema,
): Promise<StoredVersion> {
  await tx.unsafe(
    `INSERT INTO ${q}.registry_schemas (fingerprint, schema_type, schema, refs) VALUES ($1, $2, $3, $4) ON CONFLICT (fingerprint) DO NOTHING`,
    [schema.fingerprint, schema.schemaType, schema.schema, JSON.stringify(schema.references)],
  );
  const [row] = await tx.unsafe(`SELECT id FROM ${q}.registry_schemas WHERE fingerprint = $1`, [
    schema.fingerprint,
  ]);
  const id = Number(row?.id);
  const [next] = await tx.unsafe(
    `SELECT COALESCE(MAX(version), 0) + 1 AS next FROM ${q}.registry_versions WHERE subject = $1`,
    [subject],
  );
  const version = Number(next?.next);
  await tx.unsafe(`INSERT INTO ${q}.registry_versions (subject, version, schema_id) VALUES ($1, $2, $3)`, [
    subject,
    version,
    id,
  ]);
  for (const ref of schema.references) {
    await tx.unsafe(
      `INSERT INTO ${q}.registry_references (schema_id, subject, version) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
      [id, ref.subject, ref.version],
    );
  }
  return { ...schema, id, subject, version, deleted: false };
}

/** The registry's tables in a PostgreSQL schema, shared by every node on the database. */
export function createPostgresRegistryStorage(options: PostgresRegistryStorageOptions): RegistryStorage {
  const settings = parseOptions(optionsSchema, options, 'postgres registry storage');
  const sql =
    settings.sql ?? postgres(settings.url as string, { max: settings.maxConnections, onnotice: () => {} });
  const q = quoteIdentifier(settings.schema);
  let migrated: Promise<void> | undefined;
  const ready = (): Promise<void> => {
    migrated ??= migratePostgresRegistry(sql, settings.schema).catch((error: unknown) => {
      migrated = undefined;
      throw error;
    });
    return migrated;
  };
  const getConfig = async (
    column: 'compatibility' | 'mode',
    scope: ConfigScope,
  ): Promise<string | undefined> => {
    await ready();
    const [row] = await sql.unsafe(`SELECT ${column} AS value FROM ${q}.registry_config WHERE subject = $1`, [
      scope ?? '',
    ]);
    return row?.value === null || row?.value === undefined ? undefined : String(row.value);
  };
  const setConfig = async (
    column: 'compatibility' | 'mode',
    scope: ConfigScope,
    value: string | undefined,
  ) => {
    await ready();
    await sql.unsafe(
      `INSERT INTO ${q}.registry_config (subject, ${column}) VALUES ($1, $2)
       ON CONFLICT (subject) DO UPDATE SET ${column} = excluded.${column}`,
      [scope ?? '', value ?? null],
    );
  };
  return {
    register: async (subject, schema, guard) => {
      await ready();
      return sql.begin(async (tx): Promise<Registration> => {
        // One registration per subject at a time, across every node on the database.
        await tx.unsafe('SELECT pg_advisory_xact_lock(hashtext($1))', [
          `keel-registry:${settings.schema}:${subject}`,
        ]);
        const live = await selectVersions(q, tx, subject, false);
        const existing = live.find((v) => v.fingerprint === schema.fingerprint);
        if (existing !== undefined) return { version: existing, created: false };
        guard(live);
        return {
          version: { ...(await insertVersion(q, tx, subject, schema)), fingerprint: schema.fingerprint },
          created: true,
        };
      });
    },
    schemaById: async (id) => {
      await ready();
      const [row] = await sql.unsafe(
        `SELECT id, fingerprint, schema_type, schema, refs FROM ${q}.registry_schemas WHERE id = $1`,
        [id],
      );
      if (row === undefined) return undefined;
      const {
        subject: _s,
        version: _v,
        deleted: _d,
        ...schema
      } = toStoredVersion({ ...row, subject: '', version: 0 });
      return schema;
    },
    versionsOfId: async (id, includeDeleted) => {
      await ready();
      const rows = await sql.unsafe(
        `SELECT subject, version FROM ${q}.registry_versions WHERE schema_id = $1 ${includeDeleted ? '' : 'AND NOT deleted'} ORDER BY subject, version`,
        [id],
      );
      return rows.map((row) => ({ subject: String(row.subject), version: Number(row.version) }));
    },
    subjects: async (includeDeleted) => {
      await ready();
      const rows = await sql.unsafe(
        `SELECT DISTINCT subject FROM ${q}.registry_versions ${includeDeleted ? '' : 'WHERE NOT deleted'} ORDER BY subject`,
      );
      return rows.map((row) => String(row.subject));
    },
    versions: async (subject, includeDeleted) => {
      await ready();
      return selectVersions(q, sql, subject, includeDeleted);
    },
    referencedBy: async (subject, version) => {
      await ready();
      const rows = await sql.unsafe(
        `SELECT v.subject, v.version FROM ${q}.registry_references r JOIN ${q}.registry_versions v ON v.schema_id = r.schema_id
         WHERE r.subject = $1 AND r.version = $2 AND NOT v.deleted ORDER BY v.subject, v.version`,
        [subject, version],
      );
      return rows.map((row) => ({ subject: String(row.subject), version: Number(row.version) }));
    },
    deleteVersions: async (subject, versions, permanent) => {
      await ready();
      const statement = permanent
        ? `DELETE FROM ${q}.registry_versions WHERE subject = $1 AND version = ANY($2::int[])`
        : `UPDATE ${q}.registry_versions SET deleted = true WHERE subject = $1 AND version = ANY($2::int[])`;
      await sql.unsafe(statement, [subject, [...versions]]);
    },
    compatibility: async (scope) =>
      (await getConfig('compatibility', scope)) as CompatibilityLevel | undefined,
    setCompatibility: (scope, level) => setConfig('compatibility', scope, level),
    mode: async (scope) => (await getConfig('mode', scope)) as RegistryMode | undefined,
    setMode: (scope, mode) => setConfig('mode', scope, mode),
    close: async () => {
      if (settings.sql === undefined) await sql.end();
    },
  };
}
