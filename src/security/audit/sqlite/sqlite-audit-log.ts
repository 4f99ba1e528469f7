import type { Database } from 'better-sqlite3';
import type { MigrationSet } from '../../../sql/migration.ts';
import { runSqliteMigrations } from '../../../sql/sqlite/migration-runner.ts';
import { openSqlite } from '../../../sql/sqlite/open-sqlite.ts';
import {
  type AuditLog,
  type AuditRecord,
  auditEventText,
  chainHash,
  GENESIS_HASH,
  verifyChain,
} from '../audit-log.ts';

/** The audit table, in the node's `security.db`. Append only: a shipped migration has run on users' files. */
export const sqliteAuditMigrations: MigrationSet = {
  table: 'audit_migrations',
  component: { name: 'audit trail', code: 'KEEL_AUDIT_SCHEMA' },
  migrations: [
    {
      version: 1,
      description: 'audit records: sequence, CloudEvent text, previous hash, hash',
      sql: `CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY,
  event TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
) STRICT;`,
    },
  ],
};

interface Row {
  seq: number;
  event: string;
  prev_hash: string;
  hash: string;
}

/** The audit trail in a SQLite file; each append is one transaction that reads the last hash and chains to it. */
export function createSqliteAuditLog(options: { path: string; synchronous?: 'normal' | 'full' }): AuditLog {
  const db: Database = openSqlite({
    path: options.path,
    synchronous: options.synchronous ?? 'full',
    prepare: (opened) => runSqliteMigrations(opened, sqliteAuditMigrations),
  });
  const last = db.prepare<[], Row>('SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1');
  const insert = db.prepare('INSERT INTO audit_log (seq, event, prev_hash, hash) VALUES (?, ?, ?, ?)');
  const page = db.prepare<[number, number], Row>(
    'SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?',
  );
  // IMMEDIATE: the write lock is taken before the last hash is read, so two writers never fork the chain.
  const append = db.transaction((entry: Parameters<AuditLog['append']>[0]): AuditRecord => {
    const previous = last.get();
    const seq = (previous?.seq ?? 0) + 1;
    const prevHash = previous?.hash ?? GENESIS_HASH;
    const event = auditEventText(entry, seq, prevHash);
    const hash = chainHash(prevHash, event);
    insert.run(seq, event, prevHash, hash);
    return { seq, event, prevHash, hash };
  });
  const list = async (afterSeq: number, limit: number) =>
    page
      .all(afterSeq, limit)
      .map((row) => ({ seq: row.seq, event: row.event, prevHash: row.prev_hash, hash: row.hash }));
  return {
    append: async (entry) => append.immediate(entry),
    list,
    verify: () => verifyChain(list),
    close: async () => {
      db.close();
    },
  };
}
