import { createHash, randomUUID } from 'node:crypto';

/** Hash before the first record of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** CloudEvents `source` of audit records. */
export const AUDIT_SOURCE = 'urn:keel:audit';

/** Topic name audit records belong to (the CloudEvent's `keel.audit` types). */
export const AUDIT_TOPIC = 'keel.audit';

/** What happened, as the node records it. */
export interface AuditEntry {
  /** `read` for a read of event data, `action` for an administrative action. */
  kind: 'read' | 'action';
  /** Who: the identity's subject (`key:3f9a0c1b`, `oidc:<sub>`, `anonymous`). */
  subject: string;
  /** The identity's name. */
  actor: string;
  /** The operation, e.g. `GET /v1/topics/:topic/messages`. */
  operation: string;
  /** What it touched: path parameters and query (which topic, stream, event id, filter). */
  target: Record<string, unknown>;
  /** Why, from the request's `keel-audit-reason` header. */
  reason?: string | undefined;
  /** Whether authorization let it through (recorded before any data leaves) or refused it. */
  outcome: 'allowed' | 'refused';
}

/** One stored audit record: a CloudEvent (as stored, the exact text hashed) in a hash chain. */
export interface AuditRecord {
  /** Position in the chain, from 1, without gaps. */
  seq: number;
  /** The CloudEvent's JSON text, exactly as hashed. */
  event: string;
  /** Hash of the record before (GENESIS_HASH for the first). */
  prevHash: string;
  /** SHA-256 of `prevHash`, a newline and `event`. */
  hash: string;
}

/** What `verify` found: the whole chain holds, or the first record that does not. */
export type AuditVerification =
  | { ok: true; records: number }
  | { ok: false; records: number; seq: number; problem: string };

/** Which audit records a query returns: every condition given must hold. */
export interface AuditQuery {
  /** `asc`: oldest first (paging with `afterSeq`); `desc`: newest first (paging with `beforeSeq`). */
  order: 'asc' | 'desc';
  /** Only records after this `seq`. */
  afterSeq?: number;
  /** Only records before this `seq`. */
  beforeSeq?: number;
  /** `read` or `action`. */
  kind?: AuditEntry['kind'];
  /** Exactly this identity subject (`key:3f9a0c1b`, `oidc:<sub>`). */
  subject?: string;
  /** Operations containing this text (e.g. `/messages`, `POST`). */
  operation?: string;
  outcome?: AuditEntry['outcome'];
  /** Records at or after this time (ISO 8601 UTC, as the records' `time`). */
  from?: string;
  /** Records before this time (ISO 8601 UTC). */
  to?: string;
  /** Most records returned. */
  limit: number;
}

/** The durable, hash-chained audit trail. */
export interface AuditLog {
  /** Appends a record chained to the last one; resolves once stored. */
  append(entry: AuditEntry): Promise<AuditRecord>;
  /** Records after `afterSeq` (0: from the start), oldest first, at most `limit`. */
  list(afterSeq: number, limit: number): Promise<AuditRecord[]>;
  /** Records matching `query`, in its order. */
  query(query: AuditQuery): Promise<AuditRecord[]>;
  /** Walks the whole chain: each record's hash, its link to the one before, no gap in the sequence. */
  verify(): Promise<AuditVerification>;
  close(): Promise<void>;
}

/** The CloudEvent text of an entry (type `keel.audit.read` or `keel.audit.action`), carrying its chain link. */
export function auditEventText(entry: AuditEntry, seq: number, prevHash: string, now = new Date()): string {
  return JSON.stringify({
    specversion: '1.0',
    id: randomUUID(),
    source: AUDIT_SOURCE,
    type: `keel.audit.${entry.kind}`,
    time: now.toISOString(),
    subject: entry.subject,
    datacontenttype: 'application/json',
    auditseq: seq,
    prevhash: prevHash,
    data: {
      actor: entry.actor,
      operation: entry.operation,
      target: entry.target,
      ...(entry.reason ? { reason: entry.reason } : {}),
      outcome: entry.outcome,
    },
  });
}

/** How an adapter's SQL reads the stored CloudEvent text, for `auditQueryConditions`. */
export interface AuditSqlDialect {
  /** The SQL expression of an attribute (or a `data` field: operation, outcome) of the stored event. */
  field(name: 'type' | 'subject' | 'time' | 'operation' | 'outcome'): string;
  /** Adds a bind parameter and returns its placeholder. */
  param(value: string | number): string;
  /** SQL true when `text` contains `part` (not LIKE: the text may hold `%` or `_`). */
  contains(text: string, part: string): string;
}

/** The conditions of a query as SQL over the stored CloudEvent text; values are always bound. */
export function auditQueryConditions(query: AuditQuery, sql: AuditSqlDialect): string[] {
  const { field, param } = sql;
  const conditions: string[] = [];
  if (query.afterSeq !== undefined) conditions.push(`seq > ${param(query.afterSeq)}`);
  if (query.beforeSeq !== undefined) conditions.push(`seq < ${param(query.beforeSeq)}`);
  if (query.kind) conditions.push(`${field('type')} = ${param(`keel.audit.${query.kind}`)}`);
  if (query.subject) conditions.push(`${field('subject')} = ${param(query.subject)}`);
  if (query.outcome) conditions.push(`${field('outcome')} = ${param(query.outcome)}`);
  if (query.from) conditions.push(`${field('time')} >= ${param(query.from)}`);
  if (query.to) conditions.push(`${field('time')} < ${param(query.to)}`);
  if (query.operation) conditions.push(sql.contains(field('operation'), param(query.operation)));
  return conditions;
}

/** The chain hash of a record. */
export function chainHash(prevHash: string, event: string): string {
  return createHash('sha256').update(prevHash).update('\n').update(event).digest('hex');
}

/** Checks records in sequence order, continuing from `previous`; the first broken one, or undefined. */
export function firstBroken(
  records: readonly AuditRecord[],
  previous: { seq: number; hash: string },
): { seq: number; problem: string } | undefined {
  let expected = previous;
  for (const record of records) {
    if (record.seq !== expected.seq + 1) {
      return {
        seq: expected.seq + 1,
        problem: `record ${expected.seq + 1} is missing (next is ${record.seq})`,
      };
    }
    if (record.prevHash !== expected.hash) {
      return { seq: record.seq, problem: `record ${record.seq} does not link to record ${expected.seq}` };
    }
    if (chainHash(record.prevHash, record.event) !== record.hash) {
      return {
        seq: record.seq,
        problem: `record ${record.seq} was changed: its hash does not match its content`,
      };
    }
    expected = { seq: record.seq, hash: record.hash };
  }
  return undefined;
}

/** Walks a chain page by page with `list`, as both adapters verify. */
export async function verifyChain(list: AuditLog['list']): Promise<AuditVerification> {
  let previous = { seq: 0, hash: GENESIS_HASH };
  for (;;) {
    const page = await list(previous.seq, 1_000);
    const broken = firstBroken(page, previous);
    if (broken) return { ok: false, records: previous.seq, ...broken };
    if (page.length === 0) return { ok: true, records: previous.seq };
    const last = page[page.length - 1] as AuditRecord;
    previous = { seq: last.seq, hash: last.hash };
  }
}
