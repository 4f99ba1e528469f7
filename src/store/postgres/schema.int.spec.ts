import { afterAll, describe, expect, it } from 'vitest';
import { OptionsError } from '../../errors/options.ts';
import { migrationChecksum } from '../../sql/migration.ts';
import {
  adminConnection,
  dropSchema,
  postgresUrl,
  testSchemaName,
} from '../../test-support/postgres-database.ts';
import { usePostgresTestLock } from '../../test-support/postgres-lock.ts';
import { testEvents } from '../contract/contract-helpers.ts';
import { createPostgresEventStore } from './postgres-event-store.ts';
import { migratePostgresStore, migrationSql, postgresMigrations, postgresSchemaVersion } from './schema.ts';

usePostgresTestLock();
describe('postgres store schema migrations', () => {
  const admin = adminConnection();
  const schemas: string[] = [];
  const freshSchema = (): string => {
    const schema = testSchemaName('schema');
    schemas.push(schema);
    return schema;
  };
  afterAll(async () => {
    for (const schema of schemas) await dropSchema(admin, schema);
    await admin.end();
  });

  it('are numbered 1, 2, 3, ... and end at postgresSchemaVersion', () => {
    expect(postgresMigrations.map((m) => m.version)).toEqual(postgresMigrations.map((_, i) => i + 1));
    expect(postgresSchemaVersion).toBe(postgresMigrations.length);
  });

  it('are never edited once shipped: each one is pinned by its SHA-256 (add a new migration instead)', () => {
    expect(Object.fromEntries(postgresMigrations.map((m) => [m.version, migrationChecksum(m)]))).toEqual({
      1: '6a2327d7194ec8c4d9170e93dcf608e6e19970bea120914f1fe55da48506ffd5',
      2: '670c80b9b5a38d0d50981fc7d9e48d5be0e6923bb00058e16ed912fd84e90805',
      3: 'f8efb55b6a4e033ef9761b805bd5765e7f77ebbb23b2164009c47d6691462deb',
      4: '63c54ea5c5614b60c18eaac444194a3ab2bfc8117c8033785d5748cc6f3ea200',
    });
  });

  it('create the schema, its tables and the append function, once, even when stores start together', async () => {
    const schema = freshSchema();
    const stores = Array.from({ length: 4 }, () =>
      createPostgresEventStore({ url: postgresUrl, schema, maxConnections: 1 }),
    );
    try {
      await Promise.all(stores.map((s, i) => s.append(`s-${i}`, testEvents(1))));
      const tables = await admin.unsafe(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
        [schema],
      );
      expect(tables.map((r) => r.table_name)).toEqual([
        'store_events',
        'store_migrations',
        'store_outbox',
        'store_projections',
        'store_snapshots',
        'store_streams',
      ]);
      const functions = await admin.unsafe(
        'SELECT routine_name FROM information_schema.routines WHERE routine_schema = $1',
        [schema],
      );
      expect(functions.map((r) => r.routine_name)).toEqual(['store_append_batch']);
      const recorded = await admin.unsafe(`SELECT version, checksum FROM "${schema}".store_migrations`);
      expect(recorded.map((r) => ({ version: r.version, checksum: r.checksum }))).toEqual(
        postgresMigrations.map((m) => ({ version: m.version, checksum: migrationChecksum(m) })),
      );
      await migratePostgresStore(admin, schema);
      expect(await admin.unsafe(`SELECT count(*)::int AS n FROM "${schema}".store_events`)).toEqual([
        { n: 4 },
      ]);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('refuse a schema migrated by a newer Keel, or whose applied migration differs, with a typed error', async () => {
    const schema = freshSchema();
    await migratePostgresStore(admin, schema);
    await admin.unsafe(
      `INSERT INTO "${schema}".store_migrations (version, description, checksum) VALUES ($1, 'future', 'x')`,
      [postgresSchemaVersion + 1],
    );
    await expect(migratePostgresStore(admin, schema)).rejects.toMatchObject({
      code: 'KEEL_STORE_SCHEMA',
      problem: 'newer_version',
      location: schema,
    });
    const store = createPostgresEventStore({ url: postgresUrl, schema, maxConnections: 1 });
    await expect(store.append('s', testEvents(1))).rejects.toMatchObject({ code: 'KEEL_STORE_SCHEMA' });
    await store.close();
    await admin.unsafe(`DELETE FROM "${schema}".store_migrations WHERE version > $1`, [
      postgresSchemaVersion,
    ]);
    await admin.unsafe(`UPDATE "${schema}".store_migrations SET checksum = 'edited' WHERE version = 1`);
    await expect(migratePostgresStore(admin, schema)).rejects.toMatchObject({
      problem: 'modified_migration',
      found: 1,
    });
  });

  it('bring a version-1 schema with events to the current version, keeping its streams and events', async () => {
    const schema = freshSchema();
    const first = postgresMigrations[0]!;
    await admin.unsafe(`CREATE SCHEMA "${schema}"`);
    await admin.unsafe(
      `CREATE TABLE "${schema}".store_migrations (version integer PRIMARY KEY, description text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    await admin.unsafe(migrationSql(first, schema));
    await admin.unsafe(
      `INSERT INTO "${schema}".store_migrations (version, description, checksum) VALUES (1, $1, $2)`,
      [first.description, migrationChecksum(first)],
    );
    // An event appended by version 1's function.
    await admin.unsafe(
      `SELECT * FROM "${schema}".store_append('old', NULL, 'default', 'any', NULL, ARRAY['id-1'], ARRAY['t.old'], ARRAY[NULL], ARRAY['{"specversion":"1.0","id":"id-1","source":"/s","type":"t.old"}'])`,
    );
    const store = createPostgresEventStore({ url: postgresUrl, schema, maxConnections: 1 });
    try {
      const page = await store.readStream('old');
      expect(page.events.map((e) => [e.event.id, e.version])).toEqual([['id-1', 1]]);
      expect((await store.append('old', testEvents(1), { expectedVersion: 1 })).nextExpectedVersion).toBe(2);
      const versions = await admin.unsafe(
        `SELECT version FROM "${schema}".store_migrations ORDER BY version`,
      );
      expect(versions.map((r) => r.version)).toEqual(postgresMigrations.map((m) => m.version));
    } finally {
      await store.close();
    }
  });

  it('accept only plain lower-case schema names', () => {
    for (const schema of ['Keel', 'a-b', 'x;drop', '', '1abc']) {
      expect(() => createPostgresEventStore({ url: postgresUrl, schema })).toThrow(OptionsError);
      expect(() => createPostgresEventStore({ url: postgresUrl, schema })).toThrow(
        /postgres event store\.schema:/,
      );
    }
  });
});
