import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import {
  adminConnection,
  dropSchema,
  postgresUrl,
  testSchemaName,
} from '../../test-support/postgres-database.ts';
import type { AuditEntry, AuditLog } from './audit-log.ts';
import { createPostgresAuditLog } from './postgres/postgres-audit-log.ts';
import { createSqliteAuditLog } from './sqlite/sqlite-audit-log.ts';

const entry = (n: number): AuditEntry => ({
  kind: n % 2 === 0 ? 'read' : 'action',
  subject: 'key:0011aabb',
  actor: 'auditor-test',
  operation: 'GET /v1/topics/:topic/messages',
  target: { topic: 'healthcare.patients.events', n },
  reason: 'ticket-42',
  outcome: 'allowed',
});

/** Runs a raw statement on the adapter's own table, by hand, as someone altering the trail would. */
type Tamper = (statement: string) => Promise<void>;

const dir = mkdtempSync(join(tmpdir(), 'keel-audit-'));
const admin = adminConnection();
const schemas: string[] = [];
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  for (const schema of schemas) await dropSchema(admin, schema);
  await admin.end();
});

const adapters: { name: string; open: () => { log: AuditLog; tamper: Tamper; table: string } }[] = [
  {
    name: 'SQLite',
    open: () => {
      const path = join(dir, `${Math.random().toString(36).slice(2)}.db`);
      return {
        log: createSqliteAuditLog({ path }),
        table: 'audit_log',
        tamper: async (statement) => {
          const db = new BetterSqlite3(path);
          db.exec(statement);
          db.close();
        },
      };
    },
  },
  {
    name: 'PostgreSQL',
    open: () => {
      const schema = testSchemaName('audit');
      schemas.push(schema);
      return {
        log: createPostgresAuditLog({ url: postgresUrl, schema }),
        table: `"${schema}".keel_audit_log`,
        tamper: async (statement) => {
          await admin.unsafe(statement);
        },
      };
    },
  },
];

describe.each(adapters)('audit trail on $name', ({ open }) => {
  it('chains each record to the one before as a keel.audit CloudEvent, and verifies', async () => {
    const { log } = open();
    const appended = await Promise.all(Array.from({ length: 20 }, (_, n) => log.append(entry(n))));
    expect(appended.map((r) => r.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, n) => n + 1),
    );
    const records = await log.list(0, 100);
    const first = JSON.parse(records[0]?.event ?? '{}');
    expect(first).toMatchObject({
      specversion: '1.0',
      source: 'urn:keel:audit',
      subject: 'key:0011aabb',
      auditseq: 1,
      prevhash: '0'.repeat(64),
      data: { actor: 'auditor-test', reason: 'ticket-42', outcome: 'allowed' },
    });
    expect(first.type).toMatch(/^keel\.audit\.(read|action)$/);
    for (let i = 1; i < records.length; i++) expect(records[i]?.prevHash).toBe(records[i - 1]?.hash);
    expect(await log.verify()).toEqual({ ok: true, records: 20 });
    await log.close();
  });

  it('queries records by kind, subject, outcome, operation text and time, in either order', async () => {
    const { log } = open();
    for (let n = 0; n < 10; n++) {
      await log.append({
        ...entry(n),
        subject: n < 4 ? 'key:aaaa0000' : 'key:bbbb1111',
        outcome: n === 9 ? 'refused' : 'allowed',
        operation: n === 3 ? 'POST /v1/100%_done' : entry(n).operation,
      });
    }
    const seqs = (records: { seq: number }[]) => records.map((record) => record.seq);
    expect(seqs(await log.query({ order: 'asc', kind: 'read', limit: 100 }))).toEqual([1, 3, 5, 7, 9]);
    expect(seqs(await log.query({ order: 'desc', subject: 'key:aaaa0000', limit: 100 }))).toEqual([
      4, 3, 2, 1,
    ]);
    expect(seqs(await log.query({ order: 'desc', subject: 'key:bbbb1111', beforeSeq: 8, limit: 2 }))).toEqual(
      [7, 6],
    );
    expect(seqs(await log.query({ order: 'asc', afterSeq: 7, limit: 100 }))).toEqual([8, 9, 10]);
    expect(seqs(await log.query({ order: 'asc', outcome: 'refused', limit: 100 }))).toEqual([10]);
    // `%` and `_` are text, not patterns.
    expect(seqs(await log.query({ order: 'asc', operation: '100%_', limit: 100 }))).toEqual([4]);
    expect(seqs(await log.query({ order: 'asc', operation: '%', limit: 100 }))).toEqual([4]);
    const now = new Date();
    const hour = 3_600_000;
    expect(
      await log.query({ order: 'asc', from: new Date(now.getTime() + hour).toISOString(), limit: 100 }),
    ).toEqual([]);
    expect(
      seqs(
        await log.query({
          order: 'asc',
          from: new Date(now.getTime() - hour).toISOString(),
          to: new Date(now.getTime() + hour).toISOString(),
          limit: 3,
        }),
      ),
    ).toEqual([1, 2, 3]);
    await log.close();
  });

  it('fails naming the first bad record when a stored record is changed, removed or reordered by hand', async () => {
    const changed = open();
    for (let n = 0; n < 10; n++) await changed.log.append(entry(n));
    await changed.tamper(
      `UPDATE ${changed.table} SET event = replace(event, 'ticket-42', 'ticket-43') WHERE seq = 7`,
    );
    expect(await changed.log.verify()).toMatchObject({
      ok: false,
      seq: 7,
      problem: expect.stringMatching(/changed/),
    });
    await changed.log.close();

    const removed = open();
    for (let n = 0; n < 10; n++) await removed.log.append(entry(n));
    await removed.tamper(`DELETE FROM ${removed.table} WHERE seq = 4`);
    expect(await removed.log.verify()).toMatchObject({
      ok: false,
      seq: 4,
      problem: 'record 4 is missing (next is 5)',
    });
    await removed.log.close();

    const swapped = open();
    for (let n = 0; n < 10; n++) await swapped.log.append(entry(n));
    await swapped.tamper(`UPDATE ${swapped.table} SET seq = -3 WHERE seq = 3`);
    await swapped.tamper(`UPDATE ${swapped.table} SET seq = 3 WHERE seq = 5`);
    await swapped.tamper(`UPDATE ${swapped.table} SET seq = 5 WHERE seq = -3`);
    expect(await swapped.log.verify()).toMatchObject({ ok: false, seq: 3 });
    await swapped.log.close();
  });
});
