import type { Database } from 'better-sqlite3';
import { type AppliedMigration, checkApplied, type MigrationSet, migrationChecksum } from '../migration.ts';

function applied(db: Database, table: string): AppliedMigration[] {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table);
  if (exists === undefined) return [];
  return db.prepare<[], AppliedMigration>(`SELECT version, checksum FROM ${table} ORDER BY version`).all();
}

/**
 * Brings the set's tables in the file up to date. Reads first, so a connection to an up-to-date file
 * never takes the write lock; migrates under BEGIN IMMEDIATE so two processes do not both migrate.
 */
export function runSqliteMigrations(db: Database, set: MigrationSet): void {
  const before = applied(db, set.table);
  checkApplied(set, db.name, before);
  if (before.length === set.migrations.length) return;
  db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS ${set.table} (
  version INTEGER PRIMARY KEY,
  description TEXT NOT NULL,
  checksum TEXT NOT NULL,
  applied_at INTEGER NOT NULL
) STRICT`);
    // Read again inside the write lock: another process may have migrated since the first read.
    const rows = applied(db, set.table);
    checkApplied(set, db.name, rows);
    const done = new Set(rows.map((r) => r.version));
    const record = db.prepare(
      `INSERT INTO ${set.table} (version, description, checksum, applied_at) VALUES (?, ?, ?, ?)`,
    );
    for (const migration of set.migrations) {
      if (done.has(migration.version)) continue;
      db.exec(migration.sql);
      record.run(migration.version, migration.description, migrationChecksum(migration), Date.now());
    }
  }).immediate();
}
