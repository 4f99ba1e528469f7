import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { migrationChecksum } from '../../sql/migration.ts';
import { createEmbeddedTransport } from '../../transport/embedded/embedded-transport.ts';
import { schemaVersion as transportSchemaVersion } from '../../transport/embedded/schema.ts';
import { testEvents } from '../contract/contract-helpers.ts';
import { migrateSqliteStore, sqliteMigrations, sqliteSchemaVersion } from './schema.ts';
import { createSqliteEventStore } from './sqlite-event-store.ts';

const tables = (db: BetterSqlite3.Database): string[] =>
  db.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();

describe('sqlite store schema migrations', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });
  const tempFile = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'keel-store-schema-'));
    dirs.push(dir);
    return join(dir, 'keel.db');
  };

  it('are numbered 1, 2, 3, ... and end at sqliteSchemaVersion', () => {
    expect(sqliteMigrations.map((m) => m.version)).toEqual(sqliteMigrations.map((_, i) => i + 1));
    expect(sqliteSchemaVersion).toBe(sqliteMigrations.length);
  });

  it('are never edited once shipped: each one is pinned by its SHA-256 (add a new migration instead)', () => {
    expect(Object.fromEntries(sqliteMigrations.map((m) => [m.version, migrationChecksum(m)]))).toEqual({
      1: 'cb2578fab60237d5dc8ccb86477dba1b8850f8f9e2b06a736d2f65f574e04b40',
      2: 'fe7937e833a4ba919d9a09966ab7892d9e11f4b29ab3d3c5dc76e26847f53a78',
    });
  });

  it('create the store_ tables and record each step in store_migrations, once', () => {
    const db = new BetterSqlite3(':memory:');
    migrateSqliteStore(db);
    expect(tables(db)).toEqual([
      'sqlite_sequence',
      'store_events',
      'store_leases',
      'store_migrations',
      'store_outbox',
      'store_projections',
      'store_snapshots',
      'store_streams',
    ]);
    const recorded = () => db.prepare('SELECT version, checksum FROM store_migrations').all();
    expect(recorded()).toEqual(
      sqliteMigrations.map((m) => ({ version: m.version, checksum: migrationChecksum(m) })),
    );
    db.prepare("INSERT INTO store_streams VALUES ('s', 't', 1, 0, 0, NULL, 0)").run();
    migrateSqliteStore(db);
    expect(recorded()).toHaveLength(sqliteMigrations.length);
    expect(db.prepare('SELECT count(*) FROM store_streams').pluck().get()).toBe(1);
    // PRAGMA user_version belongs to the embedded transport: the store leaves it alone.
    expect(db.pragma('user_version', { simple: true })).toBe(0);
    db.close();
  });

  it('refuse a file migrated by a newer Keel, or whose applied migration differs, with a typed error', () => {
    const db = new BetterSqlite3(':memory:');
    migrateSqliteStore(db);
    db.prepare("INSERT INTO store_migrations VALUES (?, 'from the future', 'x', 0)").run(
      sqliteSchemaVersion + 1,
    );
    expect(() => migrateSqliteStore(db)).toThrow(
      expect.objectContaining({
        code: 'KEEL_STORE_SCHEMA',
        problem: 'newer_version',
        found: sqliteSchemaVersion + 1,
      }),
    );
    db.prepare('DELETE FROM store_migrations WHERE version > ?').run(sqliteSchemaVersion);
    db.prepare("UPDATE store_migrations SET checksum = 'edited' WHERE version = 1").run();
    expect(() => migrateSqliteStore(db)).toThrow(
      expect.objectContaining({ code: 'KEEL_STORE_SCHEMA', problem: 'modified_migration', found: 1 }),
    );
    db.close();
  });

  it('bring a version-1 file with events to the current version, keeping its streams and events', async () => {
    const path = await tempFile();
    const db = new BetterSqlite3(path);
    const first = sqliteMigrations[0]!;
    db.exec(
      'CREATE TABLE store_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, checksum TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT',
    );
    db.exec(first.sql);
    db.prepare('INSERT INTO store_migrations VALUES (1, ?, ?, 0)').run(
      first.description,
      migrationChecksum(first),
    );
    db.prepare("INSERT INTO store_streams VALUES ('old', 'default', 1, 0, 0)").run();
    db.prepare(
      `INSERT INTO store_events (stream_id, version, tenant_id, event_id, type, recorded_at, event)
       VALUES ('old', 1, 'default', 'id-1', 't.old', 0, '{"specversion":"1.0","id":"id-1","source":"/s","type":"t.old"}')`,
    ).run();
    db.close();
    const store = createSqliteEventStore({ path, synchronous: 'normal' });
    try {
      expect((await store.readStream('old')).events.map((e) => [e.event.id, e.version])).toEqual([
        ['id-1', 1],
      ]);
      expect((await store.append('old', testEvents(1), { expectedVersion: 1 })).nextExpectedVersion).toBe(2);
    } finally {
      await store.close();
    }
  });

  it('share one file with the embedded transport: each keeps its own tables and version tracking', async () => {
    const path = await tempFile();
    const transport = createEmbeddedTransport({ path, synchronous: 'normal', maintenanceIntervalMs: 0 });
    const store = createSqliteEventStore({ path, synchronous: 'normal' });
    try {
      await transport.ensureTopics([{ name: 'patients', partitions: 1 }]);
      await transport.append([
        { topic: 'patients', partition: 0, records: [{ key: 'k', value: null, headers: {} }] },
      ]);
      const appended = await store.append('patient-1', testEvents(2));
      expect(appended.nextExpectedVersion).toBe(2);
      expect((await transport.read('patients', 0, 0n, 10)).length).toBe(1);
      const db = new BetterSqlite3(path, { readonly: true });
      expect(db.pragma('user_version', { simple: true })).toBe(transportSchemaVersion);
      expect(tables(db)).toEqual(
        expect.arrayContaining(['records', 'topics', 'store_events', 'store_streams']),
      );
      db.close();
    } finally {
      await store.close();
      await transport.close();
    }
  });
});
