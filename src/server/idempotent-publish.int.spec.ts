import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalog as exampleCatalog } from '../../examples/catalog.ts';
import { configSchema } from '../config/config-schema.ts';
import { createNode } from './node.ts';
import { REPLAYED_HEADER } from './routes/events.ts';
import { startTempNode, type TempNode } from './test-support/temp-node.ts';

const CREATED = 'healthcare.patient.created';

/** A valid PatientCreated CloudEvent in structured form. */
function patientCreated(overrides: Record<string, unknown> = {}, data: Record<string, unknown> = {}) {
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: 'urn:keel:test',
    type: CREATED,
    time: '2026-01-02T03:04:05Z',
    data: {
      patientId: `p-${randomUUID()}`,
      firstName: 'Ada',
      lastName: 'Lovelace',
      dateOfBirth: '1815-12-10',
      ...data,
    },
    ...overrides,
  };
}

interface Receipt {
  id: string;
  type: string;
  topic: string;
  partition: number;
  offset: string;
  replayed?: true;
}

let temp: TempNode;
beforeAll(async () => {
  temp = await startTempNode();
});
afterAll(async () => {
  await temp?.close();
});

const post = (node: TempNode['node'], payload: unknown, contentType = 'application/cloudevents+json') =>
  node.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { 'content-type': contentType },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
const publish = (payload: unknown, contentType?: string) => post(temp.node, payload, contentType);
const receiptsOf = (response: { json(): unknown }) => (response.json() as { events: Receipt[] }).events;

describe('POST /v1/events is idempotent per source + id', () => {
  it('answers a retry of a stored event with its first receipt (201, replayed) and appends nothing', async () => {
    const event = patientCreated();
    const first = await publish(event);
    expect(first.statusCode).toBe(201);
    expect(first.headers[REPLAYED_HEADER]).toBeUndefined();
    const [receipt] = receiptsOf(first);
    expect(receipt?.replayed).toBeUndefined();
    const before = await temp.totalRecords();

    const retry = await publish(event);
    expect(retry.statusCode).toBe(201);
    expect(retry.headers[REPLAYED_HEADER]).toBe('true');
    expect(receiptsOf(retry)).toEqual([{ ...receipt, replayed: true }]);
    expect(await temp.totalRecords()).toBe(before);
  });

  it('takes the same content in another key order, spacing or mode as the same event', async () => {
    const event = patientCreated();
    const [receipt] = receiptsOf(await publish(event));
    const before = await temp.totalRecords();
    const reordered = Object.fromEntries(Object.entries(event).reverse());
    const spaced = JSON.stringify(reordered, null, 2);
    expect(receiptsOf(await publish(spaced))).toEqual([{ ...receipt, replayed: true }]);
    const binary = await temp.node.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: {
        'content-type': 'application/json',
        'ce-specversion': '1.0',
        'ce-id': event.id,
        'ce-source': event.source,
        'ce-type': event.type,
        'ce-time': event.time,
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      },
      payload: JSON.stringify(event.data),
    });
    expect(binary.statusCode).toBe(201);
    expect(receiptsOf(binary)).toEqual([{ ...receipt, replayed: true }]);
    expect(await temp.totalRecords()).toBe(before);
  });

  it('takes an event as the node stored it (with the dataschema and partition key it added) as the same event', async () => {
    const event = patientCreated();
    const [receipt] = receiptsOf(await publish(event));
    const before = await temp.totalRecords();
    // What an export of the topic carries: the stored event, with what the Publisher filled in.
    const exported = (
      await temp.node.app.inject({
        method: 'GET',
        url: `/v1/topics/${receipt!.topic}/export?partition=${receipt!.partition}&from=${receipt!.offset}&to=${BigInt(receipt!.offset) + 1n}`,
      })
    ).body.trim();
    expect(JSON.parse(exported)).toMatchObject({
      id: event.id,
      dataschema: expect.any(String),
      partitionkey: expect.any(String),
    });
    const imported = await temp.node.app.inject({
      method: 'POST',
      url: `/v1/topics/${receipt!.topic}/import`,
      headers: { 'content-type': 'application/x-ndjson' },
      payload: `${exported}\n`,
    });
    expect(imported.statusCode).toBeLessThan(300);
    expect(await temp.totalRecords()).toBe(before);
    // A partition key other than the one the node picks is other content.
    const otherKey = await publish({ ...event, partitionkey: 'someone-else' });
    expect(otherKey.statusCode).toBe(409);
  });

  it('refuses the same source + id with different content: 409 naming the id, nothing appended', async () => {
    const event = patientCreated();
    await publish(event);
    const before = await temp.totalRecords();
    const changed = await publish({ ...event, data: { ...event.data, lastName: 'Byron' } });
    expect(changed.statusCode).toBe(409);
    expect(changed.headers['content-type']).toContain('application/problem+json');
    expect(changed.json()).toMatchObject({
      type: 'https://keel.dev/problems/idempotency-conflict',
      status: 409,
      id: event.id,
      source: event.source,
      errors: [{ path: 'id', rule: 'same_content' }],
    });
    expect(changed.json().detail).toContain(event.id);
    expect(await temp.totalRecords()).toBe(before);
  });

  it('keeps ids of different sources apart', async () => {
    const event = patientCreated();
    const a = receiptsOf(await publish(event));
    const b = receiptsOf(await publish({ ...event, source: 'urn:keel:other' }));
    expect(b[0]?.replayed).toBeUndefined();
    expect(`${b[0]?.partition}:${b[0]?.offset}`).not.toBe(`${a[0]?.partition}:${a[0]?.offset}`);
  });

  it('refuses a whole batch when one event conflicts, naming its index; nothing of it is appended', async () => {
    const stored = patientCreated();
    await publish(stored);
    const before = await temp.totalRecords();
    const batch = [patientCreated(), { ...stored, subject: 'changed' }, patientCreated()];
    const response = await publish(batch, 'application/cloudevents-batch+json');
    expect(response.statusCode).toBe(409);
    expect(response.json()).toMatchObject({ index: 1, id: stored.id, errors: [{ path: '[1].id' }] });
    expect(await temp.totalRecords()).toBe(before);
    // Nothing was remembered of the refused batch: its new events go in afterwards.
    const again = await publish([batch[0], batch[2]], 'application/cloudevents-batch+json');
    expect(receiptsOf(again).map((r) => r.replayed)).toEqual([undefined, undefined]);
  });

  it('gives events of a batch stored earlier their first receipts and appends only the new ones', async () => {
    const old = patientCreated();
    const [oldReceipt] = receiptsOf(await publish(old));
    const before = await temp.totalRecords();
    const fresh = patientCreated();
    const response = await publish([fresh, old], 'application/cloudevents-batch+json');
    expect(response.statusCode).toBe(201);
    expect(response.headers[REPLAYED_HEADER]).toBeUndefined();
    const receipts = receiptsOf(response);
    expect(receipts[0]).toMatchObject({ id: fresh.id });
    expect(receipts[0]?.replayed).toBeUndefined();
    expect(receipts[1]).toEqual({ ...oldReceipt, replayed: true });
    expect(await temp.totalRecords()).toBe(before + 1n);
    // The whole batch retried: every receipt as first given.
    const retry = await publish([fresh, old], 'application/cloudevents-batch+json');
    expect(retry.headers[REPLAYED_HEADER]).toBe('true');
    expect(receiptsOf(retry)).toEqual([{ ...receipts[0], replayed: true }, receipts[1]]);
    expect(await temp.totalRecords()).toBe(before + 1n);
  });

  it('stores an event repeated inside a batch once; other content under the id refuses the batch', async () => {
    const event = patientCreated();
    const before = await temp.totalRecords();
    const twice = receiptsOf(await publish([event, event], 'application/cloudevents-batch+json'));
    expect(twice[1]).toEqual(twice[0]);
    expect(await temp.totalRecords()).toBe(before + 1n);
    const other = patientCreated();
    const clash = await publish(
      [other, { ...other, subject: 'different' }],
      'application/cloudevents-batch+json',
    );
    expect(clash.statusCode).toBe(409);
    expect(clash.json()).toMatchObject({ index: 1, errors: [{ path: '[1].id' }] });
    expect(await temp.totalRecords()).toBe(before + 1n);
  });

  it('appends once when identical requests arrive at the same time', async () => {
    const event = patientCreated();
    const before = await temp.totalRecords();
    const answers = await Promise.all(Array.from({ length: 12 }, () => publish(event)));
    expect(answers.map((a) => a.statusCode)).toEqual(answers.map(() => 201));
    const places = new Set(answers.map((a) => `${receiptsOf(a)[0]?.partition}:${receiptsOf(a)[0]?.offset}`));
    expect(places.size).toBe(1);
    expect(answers.filter((a) => receiptsOf(a)[0]?.replayed === undefined)).toHaveLength(1);
    expect(await temp.totalRecords()).toBe(before + 1n);
  });

  it('lets one of concurrent different contents under one id in, and refuses the others', async () => {
    const event = patientCreated();
    const before = await temp.totalRecords();
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => publish({ ...event, subject: `s-${i}` })),
    );
    expect(answers.filter((a) => a.statusCode === 201)).toHaveLength(1);
    expect(answers.filter((a) => a.statusCode === 409)).toHaveLength(5);
    expect(await temp.totalRecords()).toBe(before + 1n);
  });

  it('forgets a refused event: fixed and sent again under its id, it is appended', async () => {
    const event = patientCreated({}, { dateOfBirth: 'not a date' });
    expect((await publish(event)).statusCode).toBe(400);
    const fixed = { ...event, data: { ...event.data, dateOfBirth: '1815-12-10' } };
    const answer = await publish(fixed);
    expect(answer.statusCode).toBe(201);
    expect(receiptsOf(answer)[0]?.replayed).toBeUndefined();
  });
});

describe('idempotency retention', () => {
  it('remembers receipts across a restart of the node on the same data folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-idem-'));
    const start = async () => {
      const config = configSchema.parse({ port: 0, logLevel: 'silent', sync: 'normal', dataDir: dir });
      const node = createNode({ config, catalog: exampleCatalog, logger: pino({ level: 'silent' }) });
      await node.start();
      return node;
    };
    try {
      const event = patientCreated();
      const first = await start();
      const [receipt] = receiptsOf(await post(first, event));
      await first.close();
      const second = await start();
      try {
        expect(receiptsOf(await post(second, event))).toEqual([{ ...receipt, replayed: true }]);
        expect((await post(second, { ...event, subject: 'x' })).statusCode).toBe(409);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('forgets an id after the retention window, and prunes it', async () => {
    const short = await startTempNode({ config: { idempotencyRetentionMs: 300 } });
    try {
      const event = patientCreated();
      const first = receiptsOf(await post(short.node, event))[0];
      expect(receiptsOf(await post(short.node, event))[0]?.replayed).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 400));
      // The node prunes every min(1 min, retention) by itself, so the entry may be gone before this call.
      short.node.idempotency?.prune();
      const db = new Database(short.node.dataFile, { readonly: true });
      try {
        expect(db.prepare('SELECT count(*) AS n FROM api_idempotency').get()).toEqual({ n: 0 });
      } finally {
        db.close();
      }
      const later = await post(short.node, { ...event, subject: 'after the window' });
      expect(later.statusCode).toBe(201);
      expect(receiptsOf(later)[0]?.offset).not.toBe(first?.offset);
    } finally {
      await short.close();
    }
  });

  it('is off with a retention of 0: every request appends', async () => {
    const off = await startTempNode({ config: { idempotencyRetentionMs: 0 } });
    try {
      expect(off.node.idempotency).toBeUndefined();
      const event = patientCreated();
      await post(off.node, event);
      await post(off.node, event);
      expect(await off.totalRecords()).toBe(2n);
    } finally {
      await off.close();
    }
  });
});
