import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { startTempNode, type TempNode } from '../server/test-support/temp-node.ts';
import {
  adminConnection,
  dropSchema,
  postgresUrl,
  testSchemaName,
} from '../test-support/postgres-database.ts';
import { runCli } from './test-support/run-cli.ts';

const TOPIC = 'healthcare.patients.events';

/** Reads as a consumer (with a reason), is refused once, and lists the trail as an auditor. */
async function exercise(temp: TempNode) {
  const consumer = temp.node.keys.create({ name: 'reader', roles: ['consumer'] });
  const auditor = temp.node.keys.create({ name: 'auditor', roles: ['auditor'] });
  const call = (url: string, key: string, headers: Record<string, string> = {}, method = 'GET') =>
    fetch(`${temp.node.url}${url}`, { method, headers: { authorization: `Bearer ${key}`, ...headers } });
  expect(
    (await call(`/v1/topics/${TOPIC}/messages`, consumer.key, { 'keel-audit-reason': 'ticket-7' })).status,
  ).toBe(200);
  expect((await call('/v1/groups/g/reset', consumer.key, {}, 'POST')).status).toBe(403);
  expect((await call('/v1/audit', consumer.key)).status).toBe(403);
  const listed = (await (await call('/v1/audit', auditor.key)).json()) as {
    items: { seq: number; event: { type: string; subject: string; data: Record<string, unknown> } }[];
  };
  return { listed, consumer, auditor, call };
}

describe('keel audit verify', () => {
  it('records reads and refused actions on SQLite, verifies, and fails naming a record changed by hand', async () => {
    const temp = await startTempNode({ config: { auth: 'required' } });
    try {
      const { listed, consumer, auditor, call } = await exercise(temp);
      const [read, refused] = listed.items;
      expect(read?.event).toMatchObject({
        type: 'keel.audit.read',
        subject: `key:${consumer.record.prefix}`,
        data: {
          actor: 'reader',
          operation: 'GET /v1/topics/:topic/messages',
          reason: 'ticket-7',
          outcome: 'allowed',
        },
      });
      expect(read?.event.data.target).toMatchObject({ params: { topic: TOPIC } });
      expect(refused?.event).toMatchObject({
        type: 'keel.audit.action',
        data: { operation: 'POST /v1/groups/:group/reset', outcome: 'refused' },
      });
      expect(await (await call('/v1/audit/verify', auditor.key, {}, 'POST')).json()).toMatchObject({
        ok: true,
      });

      const ok = await runCli(['audit', 'verify', '--data-dir', temp.dir]);
      expect(ok.stdout).toMatch(/audit trail verified: \d+ records/);
      expect(ok.status).toBe(0);
      const db = new BetterSqlite3(join(temp.dir, 'security.db'));
      db.prepare("UPDATE audit_log SET event = replace(event, 'ticket-7', 'routine') WHERE seq = 1").run();
      db.close();
      const broken = await runCli(['audit', 'verify', '--data-dir', temp.dir]);
      expect(broken.status).toBe(1);
      expect(broken.stderr).toContain('audit trail broken at record 1: record 1 was changed');
    } finally {
      await temp.close();
    }
  });

  describe('on PostgreSQL', () => {
    const admin = adminConnection();
    const schema = testSchemaName('audit_cli');
    afterAll(async () => {
      await dropSchema(admin, schema);
      await admin.end();
    });

    it('keeps the trail beside the store, and fails naming a record changed by hand', async () => {
      const config = {
        auth: 'required' as const,
        store: 'postgres' as const,
        postgresUrl,
        postgresSchema: schema,
      };
      const temp = await startTempNode({ config });
      const env = { KEEL_STORE: 'postgres', KEEL_POSTGRES_URL: postgresUrl, KEEL_POSTGRES_SCHEMA: schema };
      try {
        const { listed } = await exercise(temp);
        expect(listed.items.length).toBeGreaterThanOrEqual(3);
        const ok = await runCli(['audit', 'verify', '--data-dir', temp.dir], { env });
        expect(ok.status).toBe(0);
        await admin.unsafe(`UPDATE "${schema}".keel_audit_log SET hash = repeat('f', 64) WHERE seq = 2`);
        const broken = await runCli(['audit', 'verify', '--data-dir', temp.dir], { env });
        expect(broken.status).toBe(1);
        expect(broken.stderr).toContain('audit trail broken at record 2');
      } finally {
        await temp.close();
      }
    });
  });
});
