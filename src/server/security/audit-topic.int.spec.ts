import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { catalog as exampleCatalog } from '../../../examples/catalog.ts';
import { configSchema, type KeelConfigInput } from '../../config/config-schema.ts';
import { createSqliteAuditLog } from '../../security/audit/sqlite/sqlite-audit-log.ts';
import { SECURITY_FILE_NAME } from '../../security/identity/api-key-store.ts';
import { kafkaTestHarness, testBrokers } from '../../transport/kafka/test-support/kafka-test-cluster.ts';
import type { Transport } from '../../transport/transport.ts';
import { createNode, type KeelNode } from '../node.ts';
import { AUDIT_HASH_HEADER, verifyAuditTopic } from './audit-topic.ts';

const TOPIC = 'healthcare.patients.events';
const harness = kafkaTestHarness('audit-topic');
const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  await harness.cleanup();
}, 60_000);

/** A node with auth required on `dir` (kept across restarts). */
async function startNode(dir: string, config: KeelConfigInput): Promise<KeelNode> {
  const node = createNode({
    config: configSchema.parse({
      port: 0,
      logLevel: 'silent',
      sync: 'normal',
      auth: 'required',
      ...config,
      dataDir: dir,
    }),
    catalog: exampleCatalog,
    logger: pino({ level: 'silent' }),
    checkAnswers: true,
  });
  await node.start();
  return node;
}

/** The values of the audit topic, in offset order. */
async function topicTexts(transport: Transport, topic: string): Promise<string[]> {
  const [partition] = await transport.offsets(topic);
  const records = await transport.read(topic, 0, partition?.earliest ?? 0n, 10_000);
  return records.map((record) => Buffer.from(record.value ?? new Uint8Array()).toString('utf8'));
}

const transports: { name: string; config: () => KeelConfigInput }[] = [
  { name: 'the embedded transport', config: () => ({}) },
  {
    name: 'Kafka',
    config: () => ({ transport: 'kafka', kafkaBrokers: testBrokers(), auditTopic: harness.topic('audit') }),
  },
];

describe.each(transports)('audit records on the audit topic, on $name', ({ config }) => {
  it('forwards every record in chain order, filters them over the API, verifies both, and resumes after a crash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-audit-topic-'));
    dirs.push(dir);
    const settings = config();
    const auditTopic = settings.auditTopic ?? 'keel.audit';
    let node = await startNode(dir, settings);
    try {
      const consumer = node.keys.create({ name: 'reader', roles: ['consumer'] });
      const auditor = node.keys.create({ name: 'auditor', roles: ['auditor'] });
      const admin = node.keys.create({ name: 'admin', roles: ['admin'] });
      const call = (url: string, key: string, method = 'GET', headers: Record<string, string> = {}) =>
        fetch(`${node.url}${url}`, { method, headers: { authorization: `Bearer ${key}`, ...headers } });
      for (let i = 0; i < 3; i++) {
        const read = await call(`/v1/topics/${TOPIC}/messages`, consumer.key, 'GET', {
          'keel-audit-reason': `case-${i}`,
        });
        expect(read.status).toBe(200);
      }
      expect((await call('/v1/groups/g-audit/reset', consumer.key, 'POST')).status).toBe(403);
      // The audit topic is audit data: a consumer of every topic may not browse it.
      expect((await call(`/v1/topics/${auditTopic}/messages`, consumer.key)).status).toBe(403);
      await node.auditRelay.drained();

      const table = await node.audit.list(0, 1000);
      expect(table.length).toBeGreaterThanOrEqual(5);
      expect(await topicTexts(node.transport, auditTopic)).toEqual(table.map((record) => record.event));
      const [partition] = await node.transport.offsets(auditTopic);
      const [first] = await node.transport.read(auditTopic, 0, partition?.earliest ?? 0n, 1);
      expect(first?.headers[AUDIT_HASH_HEADER]).toBe(table[0]?.hash);
      expect(first?.headers['content-type']).toMatch(/^application\/cloudevents\+json/);

      // Filters: kind, subject, outcome, operation, time, newest first with paging.
      type Listed = {
        items: { seq: number; event: { type: string; subject: string; data: Record<string, unknown> } }[];
        next: number | null;
      };
      const list = async (query: string): Promise<Listed> => {
        const response = await call(`/v1/audit?${query}`, auditor.key);
        expect(response.status).toBe(200);
        return (await response.json()) as Listed;
      };
      const refused = await list('outcome=refused&kind=action');
      expect(refused.items.map((item) => item.event.data.operation)).toEqual([
        'POST /v1/groups/:group/reset',
      ]);
      const reads = await list(`subject=key:${consumer.record.prefix}&kind=read&operation=/messages`);
      expect(reads.items.map((item) => item.event.data.reason)).toEqual([
        'case-0',
        'case-1',
        'case-2',
        undefined,
      ]);
      const newest = await list(`order=desc&limit=2&subject=key:${consumer.record.prefix}`);
      expect(newest.items.map((item) => item.seq)).toEqual(
        [...newest.items.map((item) => item.seq)].sort((a, b) => b - a),
      );
      const older = await list(
        `order=desc&limit=2&subject=key:${consumer.record.prefix}&before=${newest.next}`,
      );
      expect(Math.max(...older.items.map((item) => item.seq))).toBeLessThan(
        Math.min(...newest.items.map((item) => item.seq)),
      );
      expect((await list('from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z')).items).toEqual([]);
      expect((await call('/v1/audit?kind=everything', auditor.key)).status).toBe(400);
      expect((await call('/v1/audit?from=yesterday', auditor.key)).status).toBe(400);

      const verified = (await (await call('/v1/audit/verify', auditor.key, 'POST')).json()) as Record<
        string,
        unknown
      >;
      expect(verified).toMatchObject({ ok: true, topic: { ok: true, behind: expect.any(Number) } });
      // An admin may browse the topic: the same CloudEvents, readable by anyone with the right.
      expect((await call(`/v1/topics/${auditTopic}/messages`, admin.key)).status).toBe(200);
      await node.close();

      // A crash after the table stored records and before they reached the topic: the next start forwards them.
      const trail = createSqliteAuditLog({ path: join(dir, SECURITY_FILE_NAME) });
      for (let i = 0; i < 3; i++) {
        await trail.append({
          kind: 'action',
          subject: 'key:crashed',
          actor: 'x',
          operation: 'POST /v1/x',
          target: {},
          outcome: 'allowed',
        });
      }
      await trail.close();
      node = await startNode(dir, settings);
      await node.auditRelay.drained();
      const after = await node.audit.list(0, 1000);
      const texts = await topicTexts(node.transport, auditTopic);
      expect(texts.slice(-after.length)).toEqual(after.map((record) => record.event));
      expect(await verifyAuditTopic(node.transport, auditTopic, after.length)).toEqual({
        ok: true,
        records: after.length,
        behind: 0,
      });
    } finally {
      await node.close();
    }
  }, 60_000);
});

describe('verifying the audit topic', () => {
  it('names the first record that is missing or whose text does not match its hash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-audit-topic-'));
    dirs.push(dir);
    const node = await startNode(dir, {});
    try {
      const trail = await Promise.all(
        Array.from({ length: 4 }, (_, n) =>
          node.audit.append({
            kind: 'read',
            subject: 's',
            actor: 'a',
            operation: `GET /v1/${n}`,
            target: {},
            outcome: 'allowed',
          }),
        ),
      );
      await node.auditRelay.drained();
      expect(await verifyAuditTopic(node.transport, 'keel.audit', 4)).toEqual({
        ok: true,
        records: 4,
        behind: 0,
      });
      // A record written to the topic by someone else, claiming the next place with altered text.
      const last = trail[trail.length - 1];
      const forged = JSON.parse(last?.event ?? '{}') as Record<string, unknown>;
      await node.transport.append([
        {
          topic: 'keel.audit',
          partition: 0,
          records: [
            {
              key: 'keel.audit',
              value: Buffer.from(JSON.stringify({ ...forged, auditseq: 5, prevhash: last?.hash })),
              headers: { [AUDIT_HASH_HEADER]: 'f'.repeat(64) },
            },
          ],
        },
      ]);
      expect(await verifyAuditTopic(node.transport, 'keel.audit', 4)).toMatchObject({
        ok: false,
        seq: 5,
        problem: 'record 5 was changed: its hash does not match its content',
      });
    } finally {
      await node.close();
    }
  });
});
