import postgres from 'postgres';
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

interface Row {
  seq: string;
  event: string;
  prev_hash: string;
  hash: string;
}

/**
 * The audit trail in PostgreSQL (`<schema>.keel_audit_log`). An append locks the table against other
 * appends for its transaction, so the chain never forks across nodes sharing the database.
 */
export function createPostgresAuditLog(options: { url: string; schema: string }): AuditLog {
  const sql = postgres(options.url, { max: 2, onnotice: () => {} });
  const table = `"${options.schema.replace(/"/g, '""')}".keel_audit_log`;
  let ready: Promise<void> | undefined;
  const prepare = () => {
    ready ??= (async () => {
      await sql.unsafe(`CREATE SCHEMA IF NOT EXISTS "${options.schema.replace(/"/g, '""')}"`);
      await sql.unsafe(
        `CREATE TABLE IF NOT EXISTS ${table} (seq bigint PRIMARY KEY, event text NOT NULL, prev_hash text NOT NULL, hash text NOT NULL)`,
      );
    })();
    return ready;
  };
  const list = async (afterSeq: number, limit: number): Promise<AuditRecord[]> => {
    await prepare();
    const rows = await sql.unsafe<Row[]>(`SELECT * FROM ${table} WHERE seq > $1 ORDER BY seq LIMIT $2`, [
      afterSeq,
      limit,
    ]);
    return rows.map(recordOf);
  };
  return {
    async append(entry) {
      await prepare();
      return sql.begin(async (tx) => {
        // SHARE ROW EXCLUSIVE conflicts with itself: appends queue, readers do not wait.
        await tx.unsafe(`LOCK TABLE ${table} IN SHARE ROW EXCLUSIVE MODE`);
        const [previous] = await tx.unsafe<Row[]>(`SELECT * FROM ${table} ORDER BY seq DESC LIMIT 1`);
        const seq = previous ? Number(previous.seq) + 1 : 1;
        const prevHash = previous?.hash ?? GENESIS_HASH;
        const event = auditEventText(entry, seq, prevHash);
        const hash = chainHash(prevHash, event);
        await tx.unsafe(`INSERT INTO ${table} (seq, event, prev_hash, hash) VALUES ($1, $2, $3, $4)`, [
          seq,
          event,
          prevHash,
          hash,
        ]);
        return { seq, event, prevHash, hash };
      });
    },
    list,
    async query(query) {
      await prepare();
      const { text, params } = querySql(table, query);
      return (await sql.unsafe<Row[]>(text, params)).map(recordOf);
    },
    verify: () => verifyChain(list),
    close: () => sql.end({ timeout: 5 }),
  };
}

const recordOf = (row: Row): AuditRecord => ({
  seq: Number(row.seq),
  event: row.event,
  prevHash: row.prev_hash,
  hash: row.hash,
});

const JSON_PATH = {
  type: `(event::jsonb ->> 'type')`,
  subject: `(event::jsonb ->> 'subject')`,
  time: `(event::jsonb ->> 'time')`,
  operation: `(event::jsonb -> 'data' ->> 'operation')`,
  outcome: `(event::jsonb -> 'data' ->> 'outcome')`,
} as const;

/** A query's SELECT, in its order, with its bound values. */
function querySql(table: string, query: AuditQuery): { text: string; params: (string | number)[] } {
  const params: (string | number)[] = [];
  const param = (value: string | number) => {
    params.push(value);
    return `$${params.length}`;
  };
  const conditions = auditQueryConditions(query, {
    field: (name) => JSON_PATH[name],
    param,
    contains: (text, part) => `strpos(${text}, ${part}) > 0`,
  });
  const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
  return {
    text: `SELECT * FROM ${table} ${where} ORDER BY seq ${query.order === 'asc' ? 'ASC' : 'DESC'} LIMIT ${param(query.limit)}`,
    params,
  };
}
