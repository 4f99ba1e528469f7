import type { Database } from 'better-sqlite3';
import type { MigrationSet } from '../../../sql/migration.ts';
import { runSqliteMigrations } from '../../../sql/sqlite/migration-runner.ts';
import { openSqlite } from '../../../sql/sqlite/open-sqlite.ts';
import {
  type AuditLog,
  type AuditQuery,
  type AuditRecord,
  auditEventText,
  auditQueryConditions,
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
  const list = async (afterSeq: number, limit: number) => page.all(afterSeq, limit).map(recordOf);
  return {
    append: async (entry) => append.immediate(entry),
    list,
    query: async (query) => {
      const { sql, params } = querySql(query);
      return db
        .prepare<unknown[], Row>(sql)
        .all(...params)
        .map(recordOf);
    },
    verify: () => verifyChain(list),
    close: async () => {
      db.close();
    },
  };
}

const recordOf = (row: Row): AuditRecord => ({
  seq: row.seq,
  event: row.event,
  prevHash: row.prev_hash,
  hash: row.hash,
});

const JSON_PATH = {
  type: '$.type',
  subject: '$.subject',
  time: '$.time',
  operation: '$.data.operation',
  outcome: '$.data.outcome',
} as const;

/** A query's SELECT, in its order, with its bound values. */
function querySql(query: AuditQuery): { sql: string; params: (string | number)[] } {
  const params: (string | number)[] = [];
  const conditions = auditQueryConditions(query, {
    field: (name) => `json_extract(event, '${JSON_PATH[name]}')`,
    param: (value) => {
      params.push(value);
      return '?';
    },
    contains: (text, part) => `instr(${text}, ${part}) > 0`,
  });
  params.push(query.limit);
  const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
  return {
    sql: `SELECT * FROM audit_log ${where} ORDER BY seq ${query.order === 'asc' ? 'ASC' : 'DESC'} LIMIT ?`,
    params,
  };
}
