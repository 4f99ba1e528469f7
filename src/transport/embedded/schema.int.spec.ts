import { createHash } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate, migrations, schemaVersion } from './schema.ts';

const schemaOf = (db: BetterSqlite3.Database): unknown[] =>
  db
    .prepare(
      "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .all();

describe('embedded schema migrations', () => {
  it('are numbered 1, 2, 3, ... in order and end at schemaVersion', () => {
    expect(migrations.map((m) => m.version)).toEqual(migrations.map((_, i) => i + 1));
    expect(schemaVersion).toBe(migrations.length);
  });

  it('are never edited once shipped: each one is pinned by its SHA-256 (add a new migration instead)', () => {
    const pinned: Record<number, string> = {
      1: '123eb8ce7a7544412976f60c466fa7030572075d918f39c13de6b5c994d31b2a',
      2: 'b674fa460a386527bc69efa3028f60b550f4bb24a5328648bc28e91a67a4ea3a',
    };
    const actual = Object.fromEntries(
      migrations.map((m) => [m.version, createHash('sha256').update(m.sql).digest('hex')]),
    );
    expect(actual).toEqual(pinned);
  });

  it('bring a new file to schemaVersion with the log and group tables', () => {
    const db = new BetterSqlite3(':memory:');
    migrate(db);
    expect(db.pragma('user_version', { simple: true })).toBe(schemaVersion);
    const tables = db
      .prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .pluck()
      .all();
    expect(tables).toEqual([
      'committed_offsets',
      'consumer_groups',
      'group_members',
      'partition_owners',
      'partitions',
      'records',
      'topics',
    ]);
    db.close();
  });

  it('from every older version reach the same schema as a new file, and keep the data', () => {
    const fresh = new BetterSqlite3(':memory:');
    migrate(fresh);
    for (let from = 1; from < schemaVersion; from++) {
      const db = new BetterSqlite3(':memory:');
      for (const m of migrations.filter((m) => m.version <= from)) db.exec(m.sql);
      db.pragma(`user_version = ${from}`);
      migrate(db);
      expect(schemaOf(db)).toEqual(schemaOf(fresh));
      db.close();
    }
    fresh.close();
  });

  it('run once: migrating again leaves the file and its rows alone', () => {
    const db = new BetterSqlite3(':memory:');
    migrate(db);
    db.prepare("INSERT INTO topics (name, partitions, created_at) VALUES ('t', 1, 0)").run();
    migrate(db);
    expect(db.prepare('SELECT count(*) FROM topics').pluck().get()).toBe(1);
    db.close();
  });

  it('refuse a file written by a newer Keel with a typed error', () => {
    const db = new BetterSqlite3(':memory:');
    db.pragma(`user_version = ${schemaVersion + 1}`);
    expect(() => migrate(db)).toThrow(
      expect.objectContaining({ code: 'KEEL_EMBEDDED_SCHEMA_VERSION', found: schemaVersion + 1 }),
    );
    db.close();
  });
});
