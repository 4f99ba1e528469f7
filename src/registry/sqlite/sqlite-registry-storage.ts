import type { Database } from 'better-sqlite3';
import { z } from 'zod';
import { parseOptions } from '../../errors/options.ts';
import { openSqlite } from '../../sql/sqlite/open-sqlite.ts';
import type {
  ConfigScope,
  NewSchema,
  Registration,
  RegistryStorage,
  StoredVersion,
} from '../registry-storage.ts';
import { toStoredVersion, versionColumns } from '../storage-rows.ts';
import type { CompatibilityLevel, RegistryMode } from '../types.ts';
import { migrateSqliteRegistry } from './schema.ts';

/** Where the registry keeps its tables on SQLite. */
export interface SqliteRegistryStorageOptions {
  /** The node's SQLite file (the event store's), or `:memory:`; the registry opens its own connection. */
  path: string;
  /** `full` (default) fsyncs every commit; `normal` survives process crashes only. */
  synchronous?: 'normal' | 'full';
}

const optionsSchema = z.object({
  path: z.string({ error: 'expected a file path' }).min(1, { error: 'expected a file path' }),
  synchronous: z.enum(['normal', 'full'], { error: "expected 'normal' or 'full'" }).default('full'),
});

const scopeKey = (scope: ConfigScope): string => scope ?? '';

function selectVersions(db: Database, subject: string, includeDeleted: boolean): StoredVersion[] {
  return db
    .prepare<[string], Record<string, unknown>>(
      `SELECT ${versionColumns} FROM registry_versions v JOIN registry_schemas s ON s.id = v.schema_id
       WHERE v.subject = ? ${includeDeleted ? '' : 'AND v.deleted = 0'} ORDER BY v.version`,
    )
    .all(subject)
    .map(toStoredVersion);
}

function insertVersion(db: Database, subject: string, schema: NewSchema): StoredVersion {
  db.prepare(
    'INSERT INTO registry_schemas (fingerprint, schema_type, schema, refs) VALUES (?, ?, ?, ?) ON CONFLICT (fingerprint) DO NOTHING',
  ).run(schema.fingerprint, schema.schemaType, schema.schema, JSON.stringify(schema.references));
  const { id } = db
    .prepare<[string], { id: number }>('SELECT id FROM registry_schemas WHERE fingerprint = ?')
    .get(schema.fingerprint) as { id: number };
  const { next } = db
    .prepare<[string], { next: number }>(
      'SELECT COALESCE(MAX(version), 0) + 1 AS next FROM registry_versions WHERE subject = ?',
    )
    .get(subject) as { next: number };
  db.prepare(
    'INSERT INTO registry_versions (subject, version, schema_id, deleted, registered_at) VALUES (?, ?, ?, 0, ?)',
  ).run(subject, next, id, Date.now());
  const reference = db.prepare(
    'INSERT OR IGNORE INTO registry_references (schema_id, subject, version) VALUES (?, ?, ?)',
  );
  for (const ref of schema.references) reference.run(id, ref.subject, ref.version);
  return { ...schema, id, subject, version: next, deleted: false };
}

function setConfig(
  db: Database,
  column: 'compatibility' | 'mode',
  scope: ConfigScope,
  value: string | undefined,
) {
  db.prepare(
    `INSERT INTO registry_config (subject, ${column}) VALUES (?, ?)
     ON CONFLICT (subject) DO UPDATE SET ${column} = excluded.${column}`,
  ).run(scopeKey(scope), value ?? null);
}

function getConfig(db: Database, column: 'compatibility' | 'mode', scope: ConfigScope): string | undefined {
  const row = db
    .prepare<[string], Record<string, unknown>>(
      `SELECT ${column} AS value FROM registry_config WHERE subject = ?`,
    )
    .get(scopeKey(scope));
  return row?.value === null || row?.value === undefined ? undefined : String(row.value);
}

/** The registry's tables in the node's SQLite file. */
export function createSqliteRegistryStorage(options: SqliteRegistryStorageOptions): RegistryStorage {
  const settings = parseOptions(optionsSchema, options, 'sqlite registry storage');
  const db = openSqlite({
    path: settings.path,
    synchronous: settings.synchronous,
    prepare: migrateSqliteRegistry,
  });
  return {
    register: async (subject, schema, guard): Promise<Registration> =>
      db
        .transaction((): Registration => {
          const live = selectVersions(db, subject, false);
          const existing = live.find((v) => v.fingerprint === schema.fingerprint);
          if (existing !== undefined) return { version: existing, created: false };
          guard(live);
          return {
            version: { ...insertVersion(db, subject, schema), fingerprint: schema.fingerprint },
            created: true,
          };
        })
        .immediate(),
    schemaById: async (id) => {
      const row = db
        .prepare<[number], Record<string, unknown>>(
          'SELECT id, fingerprint, schema_type, schema, refs FROM registry_schemas WHERE id = ?',
        )
        .get(id);
      if (row === undefined) return undefined;
      const {
        subject: _s,
        version: _v,
        deleted: _d,
        ...schema
      } = toStoredVersion({ ...row, subject: '', version: 0 });
      return schema;
    },
    versionsOfId: async (id, includeDeleted) =>
      db
        .prepare<[number], { subject: string; version: number }>(
          `SELECT subject, version FROM registry_versions WHERE schema_id = ? ${includeDeleted ? '' : 'AND deleted = 0'} ORDER BY subject, version`,
        )
        .all(id),
    subjects: async (includeDeleted) =>
      db
        .prepare<[], { subject: string }>(
          `SELECT DISTINCT subject FROM registry_versions ${includeDeleted ? '' : 'WHERE deleted = 0'} ORDER BY subject`,
        )
        .all()
        .map((row) => row.subject),
    versions: async (subject, includeDeleted) => selectVersions(db, subject, includeDeleted),
    referencedBy: async (subject, version) =>
      db
        .prepare<[string, number], { subject: string; version: number }>(
          `SELECT v.subject, v.version FROM registry_references r JOIN registry_versions v ON v.schema_id = r.schema_id
           WHERE r.subject = ? AND r.version = ? AND v.deleted = 0 ORDER BY v.subject, v.version`,
        )
        .all(subject, version),
    deleteVersions: async (subject, versions, permanent) => {
      const statement = permanent
        ? db.prepare('DELETE FROM registry_versions WHERE subject = ? AND version = ?')
        : db.prepare('UPDATE registry_versions SET deleted = 1 WHERE subject = ? AND version = ?');
      db.transaction(() => {
        for (const version of versions) statement.run(subject, version);
      }).immediate();
    },
    compatibility: async (scope) => getConfig(db, 'compatibility', scope) as CompatibilityLevel | undefined,
    setCompatibility: async (scope, level) => setConfig(db, 'compatibility', scope, level),
    mode: async (scope) => getConfig(db, 'mode', scope) as RegistryMode | undefined,
    setMode: async (scope, mode) => setConfig(db, 'mode', scope, mode),
    close: async () => {
      db.close();
    },
  };
}
