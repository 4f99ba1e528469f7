import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalog as exampleCatalog } from '../../examples/catalog.ts';
import { withUntypedTopic } from '../config/load-catalog.ts';
import { fromRecord } from '../events/kafka-binding.ts';
import { startTempNode, type TempNode } from './test-support/temp-node.ts';

const TOPIC = 'healthcare.patients.events';
const CREATED = 'healthcare.patient.created';

/** A valid PatientCreated CloudEvent in structured form. */
function patientCreated(overrides: Record<string, unknown> = {}, data: Record<string, unknown> = {}) {
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: 'urn:keel:test',
    type: CREATED,
    time: '2026-01-02T03:04:05Z',
    datacontenttype: 'application/json',
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
}

let temp: TempNode;
beforeAll(async () => {
  temp = await startTempNode();
});
afterAll(async () => {
  await temp?.close();
});

const post = (
  contentType: string | undefined,
  payload: string | Buffer,
  headers: Record<string, string> = {},
) =>
  temp.node.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: contentType === undefined ? headers : { 'content-type': contentType, ...headers },
    payload,
  });

/** Reads back the event stored at a receipt's place. */
async function stored(receipt: Receipt) {
  const records = await temp.node.transport.read(receipt.topic, receipt.partition, BigInt(receipt.offset), 1);
  expect(records).toHaveLength(1);
  return fromRecord(records[0]!);
}

describe('POST /v1/events accepts', () => {
  it('one event in structured mode, answering 201 with where it was stored', async () => {
    const event = patientCreated();
    const response = await post('application/cloudevents+json; charset=utf-8', JSON.stringify(event));
    expect(response.statusCode).toBe(201);
    const { events } = response.json() as { events: Receipt[] };
    expect(events).toHaveLength(1);
    const [receipt] = events;
    expect(receipt).toMatchObject({ id: event.id, type: CREATED, topic: TOPIC });
    expect(receipt!.partition).toBeGreaterThanOrEqual(0);
    expect(receipt!.partition).toBeLessThan(12);
    expect(receipt!.offset).toMatch(/^\d+$/);
    const back = await stored(receipt!);
    expect(back.id).toBe(event.id);
    expect(back.data).toEqual(event.data);
  });

  it('a batch, answering the receipts in the order of the events', async () => {
    const batch = [patientCreated(), patientCreated(), patientCreated()];
    const response = await post('application/cloudevents-batch+json', JSON.stringify(batch));
    expect(response.statusCode).toBe(201);
    const { events } = response.json() as { events: Receipt[] };
    expect(events.map((receipt) => receipt.id)).toEqual(batch.map((event) => event.id));
    for (const [index, receipt] of events.entries()) {
      expect((await stored(receipt)).data).toEqual(batch[index]!.data);
    }
  });

  it('one event in binary mode, attributes in ce-* headers and the data as the body', async () => {
    const id = randomUUID();
    const data = { patientId: 'p-binary', firstName: 'Grace', lastName: 'Hopper', dateOfBirth: '1906-12-09' };
    const response = await post('application/json', JSON.stringify(data), {
      'ce-specversion': '1.0',
      'ce-id': id,
      'ce-source': 'urn:keel:test',
      'ce-type': CREATED,
      'ce-tenantid': 'tenant-a',
    });
    expect(response.statusCode).toBe(201);
    const [receipt] = (response.json() as { events: Receipt[] }).events;
    expect(receipt).toMatchObject({ id, type: CREATED, topic: TOPIC });
    const back = await stored(receipt!);
    expect(back).toMatchObject({ id, type: CREATED, source: 'urn:keel:test', tenantid: 'tenant-a', data });
  });

  it('an event or a batch sent as plain application/json', async () => {
    const one = patientCreated();
    const single = await post('application/json', JSON.stringify(one));
    expect(single.statusCode).toBe(201);
    expect((single.json() as { events: Receipt[] }).events.map((r) => r.id)).toEqual([one.id]);
    const batch = [patientCreated(), patientCreated()];
    const many = await post('application/json', ` ${JSON.stringify(batch)}`);
    expect(many.statusCode).toBe(201);
    expect((many.json() as { events: Receipt[] }).events.map((r) => r.id)).toEqual(batch.map((e) => e.id));
  });

  it('events with one partitionkey on one partition, at consecutive offsets', async () => {
    const first = patientCreated({ partitionkey: 'p-same' });
    const second = patientCreated({ partitionkey: 'p-same' });
    const a = (await post('application/cloudevents+json', JSON.stringify(first))).json() as {
      events: Receipt[];
    };
    const b = (await post('application/cloudevents+json', JSON.stringify(second))).json() as {
      events: Receipt[];
    };
    expect(b.events[0]!.partition).toBe(a.events[0]!.partition);
    expect(BigInt(b.events[0]!.offset)).toBe(BigInt(a.events[0]!.offset) + 1n);
  });
});

describe('POST /v1/events rejects bad input with problem+json and writes nothing', () => {
  interface Case {
    name: string;
    contentType: string | undefined;
    payload: string | Buffer;
    headers?: Record<string, string>;
    status: number;
    problem: string;
    index?: number;
    errorPath?: string | RegExp;
    detail?: RegExp;
  }
  const good = () => patientCreated();
  const cases: Case[] = [
    {
      name: 'malformed JSON',
      contentType: 'application/cloudevents+json',
      payload: '{"specversion":"1.0",',
      status: 400,
      problem: 'malformed-json',
    },
    {
      name: 'a malformed batch',
      contentType: 'application/cloudevents-batch+json',
      payload: '[{"specversion":"1.0"},',
      status: 400,
      problem: 'malformed-json',
    },
    {
      name: 'an unknown event type',
      contentType: 'application/cloudevents+json',
      payload: JSON.stringify(patientCreated({ type: 'healthcare.patient.teleported' })),
      status: 400,
      problem: 'unknown-event-type',
      errorPath: 'type',
      detail: /healthcare\.patient\.teleported/,
    },
    {
      name: 'data that breaks the schema',
      contentType: 'application/cloudevents+json',
      payload: JSON.stringify(patientCreated({}, { dateOfBirth: 'last tuesday' })),
      status: 400,
      problem: 'validation',
      errorPath: 'data.dateOfBirth',
    },
    {
      name: 'an envelope without an id',
      contentType: 'application/cloudevents+json',
      payload: JSON.stringify({ ...patientCreated(), id: undefined }),
      status: 400,
      problem: 'validation',
      errorPath: 'id',
    },
    {
      name: 'binary mode data that breaks the schema',
      contentType: 'application/json',
      payload: JSON.stringify({ patientId: 'p-1' }),
      headers: { 'ce-specversion': '1.0', 'ce-id': 'b-1', 'ce-source': 'urn:keel:test', 'ce-type': CREATED },
      status: 400,
      problem: 'validation',
      errorPath: /^data\.(firstName|lastName|dateOfBirth)$/,
    },
    {
      name: 'a batch whose third event breaks the schema',
      contentType: 'application/cloudevents-batch+json',
      payload: JSON.stringify([good(), good(), patientCreated({}, { lastName: '' }), good()]),
      status: 400,
      problem: 'validation',
      index: 2,
      errorPath: '[2].data.lastName',
    },
    {
      name: 'a batch whose second event has an unknown type',
      contentType: 'application/cloudevents-batch+json',
      payload: JSON.stringify([good(), patientCreated({ type: 'nope.nothing' }), good()]),
      status: 400,
      problem: 'unknown-event-type',
      index: 1,
      errorPath: '[1].type',
    },
    {
      name: 'a batch whose fourth envelope is invalid',
      contentType: 'application/cloudevents-batch+json',
      payload: JSON.stringify([good(), good(), good(), patientCreated({ time: 'yesterday' })]),
      status: 400,
      problem: 'validation',
      index: 3,
      errorPath: '[3].time',
    },
    {
      name: 'a plain JSON batch whose second event breaks the schema',
      contentType: 'application/json',
      payload: JSON.stringify([good(), patientCreated({}, { patientId: '' })]),
      status: 400,
      problem: 'validation',
      index: 1,
      errorPath: '[1].data.patientId',
    },
    {
      name: 'a batch of one bad event',
      contentType: 'application/cloudevents-batch+json',
      payload: JSON.stringify([patientCreated({}, { firstName: 42 })]),
      status: 400,
      problem: 'validation',
      index: 0,
      errorPath: '[0].data.firstName',
    },
    {
      name: 'an event over the size limit',
      contentType: 'application/cloudevents+json',
      payload: JSON.stringify(patientCreated({}, { firstName: 'A'.repeat(1024 * 1024 + 1) })),
      status: 413,
      problem: 'event-too-large',
      detail: /over the limit of 1048576 bytes/,
    },
    {
      name: 'a batch whose second event is over the size limit',
      contentType: 'application/cloudevents-batch+json',
      payload: JSON.stringify([
        good(),
        patientCreated({}, { firstName: 'A'.repeat(1024 * 1024 + 1) }),
        good(),
      ]),
      status: 413,
      problem: 'event-too-large',
      index: 1,
    },
    {
      name: 'a body over the request limit',
      contentType: 'application/cloudevents-batch+json',
      payload: Buffer.alloc(16 * 1024 * 1024 + 1, 0x20),
      status: 413,
      problem: 'payload-too-large',
    },
    {
      name: 'text without ce-* headers',
      contentType: 'text/plain',
      payload: 'hello',
      status: 415,
      problem: 'unsupported-media-type',
      detail: /application\/cloudevents\+json/,
    },
    {
      name: 'plain JSON that is not an event',
      contentType: 'application/json',
      payload: JSON.stringify({ hello: 'world' }),
      status: 400,
      problem: 'validation',
    },
    {
      name: 'a structured event format this node does not read',
      contentType: 'application/cloudevents+avro',
      payload: 'x',
      status: 415,
      problem: 'unsupported-media-type',
    },
    {
      name: 'a body without a content type',
      contentType: undefined,
      payload: JSON.stringify(good()),
      status: 415,
      problem: 'unsupported-media-type',
    },
  ];

  it.each(cases)('$name → $status $problem', async (c) => {
    const before = await temp.totalRecords();
    const response = await post(c.contentType, c.payload, c.headers);
    expect(response.statusCode).toBe(c.status);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = response.json() as {
      type: string;
      title: string;
      status: number;
      detail: string;
      index?: number;
      errors?: { path: string; rule: string; message: string }[];
    };
    expect(body.type).toBe(`https://keel.dev/problems/${c.problem}`);
    expect(body.status).toBe(c.status);
    expect(body.title).toEqual(expect.any(String));
    expect(body.detail.length).toBeGreaterThan(0);
    if (c.detail) expect(body.detail).toMatch(c.detail);
    expect(body.index).toBe(c.index);
    if (c.errorPath !== undefined) {
      const paths = body.errors?.map((error) => error.path) ?? [];
      if (typeof c.errorPath === 'string') expect(paths).toContain(c.errorPath);
      else expect(paths.some((path) => (c.errorPath as RegExp).test(path))).toBe(true);
      for (const error of body.errors ?? []) {
        expect(error).toEqual({
          path: expect.any(String),
          rule: expect.any(String),
          message: expect.any(String),
        });
      }
    }
    expect(await temp.totalRecords()).toBe(before);
  });

  it('answers unknown routes with a 404 problem', async () => {
    const response = await temp.node.app.inject({ method: 'GET', url: '/v1/nothing-here' });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({
      type: 'https://keel.dev/problems/not-found',
      status: 404,
      detail: 'no route GET /v1/nothing-here',
    });
  });
});

describe('metrics', () => {
  it('counts published events by type and topic, and not rejected ones', async () => {
    const metric = async () => {
      const response = await temp.node.app.inject({ method: 'GET', url: '/metrics' });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe(temp.node.metrics.registry.contentType);
      const line = response.body
        .split('\n')
        .find((l) => l.startsWith(`keel_event_published_total{type="${CREATED}",topic="${TOPIC}"}`));
      return line ? Number(line.split(' ').at(-1)) : 0;
    };
    const before = await metric();
    await post('application/cloudevents-batch+json', JSON.stringify([patientCreated(), patientCreated()]));
    await post('application/cloudevents+json', JSON.stringify(patientCreated({}, { dateOfBirth: 'x' })));
    expect(await metric()).toBe(before + 2);
    const text = (await temp.node.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toMatch(
      /keel_event_publish_duration_seconds_count\{topic="healthcare\.patients\.events"\} \d+/,
    );
  });
});

describe('health and catalog', () => {
  it('answers /healthz and /readyz', async () => {
    expect((await temp.node.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await temp.node.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', transport: 'embedded' });
  });

  it('lists the event types and topics', async () => {
    const response = await temp.node.app.inject({ method: 'GET', url: '/v1/catalog' });
    expect(response.statusCode).toBe(200);
    const body = response.json() as { events: unknown[]; topics: { name: string; partitions: number }[] };
    expect(body.events).toContainEqual({
      type: CREATED,
      version: 1,
      topic: TOPIC,
      description: 'A patient was registered.',
    });
    expect(body.topics).toContainEqual(expect.objectContaining({ name: TOPIC, partitions: 12 }));
  });

  it('serves the JSON Schema of each event type', async () => {
    const response = await temp.node.app.inject({ method: 'GET', url: '/v1/catalog/schemas' });
    const { schemas } = response.json() as { schemas: Record<string, { required?: string[] }> };
    expect(schemas[CREATED]?.required).toEqual(
      expect.arrayContaining(['patientId', 'firstName', 'lastName', 'dateOfBirth']),
    );
  });
});

describe('a node that allows untyped events', () => {
  it('stores an unknown type on keel.untyped', async () => {
    const untyped = await startTempNode({ catalog: withUntypedTopic(exampleCatalog) });
    try {
      const response = await untyped.node.app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { 'content-type': 'application/cloudevents+json' },
        payload: JSON.stringify({
          specversion: '1.0',
          id: 'u-1',
          source: 'urn:x',
          type: 'acme.thing.happened',
          data: {},
        }),
      });
      expect(response.statusCode).toBe(201);
      expect(response.json()).toMatchObject({
        events: [{ id: 'u-1', type: 'acme.thing.happened', topic: 'keel.untyped' }],
      });
    } finally {
      await untyped.close();
    }
  });
});
