import { expect, it } from 'vitest';
import { toStructuredObject } from '../../events/json-format.ts';
import type { KeelNode } from '../node.ts';
import { decodeRecord } from '../topics/message-filter.ts';
import { type ApiFixture, allRecords, request, seedPatients } from './api-fixture.ts';

/** A second node to import into: its catalog puts the patient events on `topic`. */
export interface ImportTarget {
  node: KeelNode;
  topic: string;
  close(): Promise<void>;
}

const NDJSON = 'application/x-ndjson';

/** The CloudEvents of a topic, in the JSON format, in log order (an id may stand twice in a log). */
async function eventsOf(node: KeelNode, topic: string): Promise<Record<string, unknown>[]> {
  const events: Record<string, unknown>[] = [];
  for (const record of await allRecords(node, topic)) {
    const event = decodeRecord(record);
    if (event) events.push(toStructuredObject(event));
  }
  return events;
}

/** The CloudEvents of a topic, in the JSON format, keyed by id. */
async function eventsById(node: KeelNode, topic: string): Promise<Map<string, Record<string, unknown>>> {
  return new Map((await eventsOf(node, topic)).map((event) => [event.id as string, event]));
}

const linesOf = (text: string) => text.split('\n').filter((line) => line !== '');

/**
 * Export and import tests for a fixture on any transport; seeds 8 patient events. `startTarget` gives a fresh
 * node to import into (the same transport, another topic).
 */
export function transferSuite(fixture: () => ApiFixture, startTarget: () => Promise<ImportTarget>): void {
  const get = (url: string) => request(fixture().node, 'GET', url);
  const importInto = (node: KeelNode, topic: string, payload: string, contentType = NDJSON) =>
    node.app.inject({
      method: 'POST',
      url: `/v1/topics/${topic}/import`,
      headers: { 'content-type': contentType },
      payload,
    });

  it('exports a topic as NDJSON: one CloudEvent per line, every event of the topic', async () => {
    const { node, topic } = fixture();
    await seedPatients(node, 8);
    const response = await get(`/v1/topics/${topic}/export`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/x-ndjson/);
    expect(response.headers['content-disposition']).toContain('.ndjson');
    const exported = linesOf(response.body).map((line) => JSON.parse(line) as Record<string, unknown>);
    const stored = await eventsOf(node, topic);
    // Every record once, as stored (an id written twice to the log is exported twice).
    expect(exported.map((event) => event.id).sort()).toEqual(stored.map((event) => event.id).sort());
    const byId = new Map(stored.map((event) => [event.id as string, event]));
    for (const event of exported) expect(event).toEqual(byId.get(event.id as string));
  });

  it('exports with the browser filters, a partition and offset bounds, and a limit', async () => {
    const { node, topic } = fixture();
    const records = await allRecords(node, topic);
    const north = records.filter((r) => decodeRecord(r)?.tenantid === 'north');
    const filtered = linesOf((await get(`/v1/topics/${topic}/export?tenant=north`)).body);
    expect(filtered).toHaveLength(north.length);
    const inPartition = records.filter((r) => r.partition === 1);
    expect(inPartition.length).toBeGreaterThan(1);
    const from = inPartition[0]?.offset as bigint;
    const bounded = linesOf(
      (await get(`/v1/topics/${topic}/export?partition=1&from=${from + 1n}&to=${from + 2n}`)).body,
    );
    expect(bounded.map((line) => JSON.parse(line).id)).toEqual([decodeRecord(inPartition[1]!)?.id]);
    expect(linesOf((await get(`/v1/topics/${topic}/export?limit=3`)).body)).toHaveLength(3);
  });

  it('exports as CSV: a header, one row per event, data as JSON', async () => {
    const { node, topic } = fixture();
    const response = await get(`/v1/topics/${topic}/export?format=csv&tenant=north`);
    expect(response.headers['content-type']).toMatch(/^text\/csv/);
    const rows = response.body.split('\r\n').filter((row) => row !== '');
    expect(rows[0]).toBe('topic,partition,offset,id,type,source,subject,time,correlationid,tenantid,data');
    const north = (await allRecords(node, topic)).filter((r) => decodeRecord(r)?.tenantid === 'north');
    expect(rows).toHaveLength(north.length + 1);
    const first = north[0]!;
    const event = decodeRecord(first)!;
    const row = rows[1] as string;
    expect(row.startsWith(`${topic},${first.partition},${first.offset},${event.id},${event.type},`)).toBe(
      true,
    );
    const data = row.slice(row.indexOf(',"{') + 1);
    expect(JSON.parse(JSON.parse(`"${data.slice(1, -1).replaceAll('""', '\\"')}"`))).toEqual(event.data);
  });

  it('refuses offset bounds without a partition or ending before they start (422)', async () => {
    const { topic } = fixture();
    const unbound = await get(`/v1/topics/${topic}/export?from=3`);
    expect(unbound.statusCode).toBe(422);
    expect(unbound.json()).toMatchObject({ errors: [{ path: 'query.from' }] });
    const backwards = await get(`/v1/topics/${topic}/export?partition=0&from=5&to=5`);
    expect(backwards.json()).toMatchObject({ status: 422, errors: [{ path: 'query.to' }] });
    expect((await get('/v1/topics/no.such.topic/export')).statusCode).toBe(404);
  });

  it('imports an export into another node: the same events; importing it again appends nothing', async () => {
    const { node, topic } = fixture();
    const exported = (await get(`/v1/topics/${topic}/export`)).body;
    const target = await startTarget();
    try {
      const response = await importInto(target.node, target.topic, exported);
      expect(response.statusCode).toBe(201);
      const count = linesOf(exported).length;
      expect(response.json()).toEqual({ topic: target.topic, imported: count, replayed: 0 });
      const source = await eventsById(node, topic);
      const copied = await eventsById(target.node, target.topic);
      expect(copied.size).toBe(source.size);
      for (const [id, event] of source) expect(copied.get(id)).toEqual(event);
      const again = await importInto(target.node, target.topic, exported);
      expect(again.json()).toEqual({ topic: target.topic, imported: 0, replayed: count });
      expect((await eventsById(target.node, target.topic)).size).toBe(source.size);
    } finally {
      await target.close();
    }
  });

  it('refuses an import with a bad line, naming the line and field, and writes nothing', async () => {
    const { topic } = fixture();
    const lines = linesOf((await get(`/v1/topics/${topic}/export?limit=3`)).body);
    const broken = JSON.parse(lines[1] as string);
    broken.data.dateOfBirth = 'yesterday';
    const target = await startTarget();
    try {
      const before = await eventsById(target.node, target.topic);
      const bad = await importInto(
        target.node,
        target.topic,
        [lines[0], JSON.stringify(broken), '', '{"specversion":'].join('\n'),
      );
      expect(bad.statusCode).toBe(400);
      expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
      const paths = (bad.json() as { errors: { path: string }[] }).errors.map((e) => e.path);
      expect(paths).toContain('line[2].data.dateOfBirth');
      expect(paths).toContain('line[4]');
      const otherTopic = await importInto(target.node, 'keel.elsewhere', lines[0] as string);
      expect(otherTopic.statusCode).toBe(404);
      const wrongType = await importInto(target.node, target.topic, lines[0] as string, 'application/json');
      expect(wrongType.statusCode).toBe(415);
      // An id already imported, sent again with other content: 409 naming its line, nothing written.
      const first = JSON.parse(lines[0] as string);
      expect((await importInto(target.node, target.topic, lines[0] as string)).statusCode).toBe(201);
      const reused = await importInto(
        target.node,
        target.topic,
        `${lines[2]}\n${JSON.stringify({ ...first, subject: 'other content' })}`,
      );
      expect(reused.statusCode).toBe(409);
      expect(reused.json()).toMatchObject({ errors: [{ path: 'line[2].id' }] });
      expect(reused.json().detail).toContain(first.id);
      const empty = await importInto(target.node, target.topic, '\n\n');
      expect(empty.json()).toMatchObject({ status: 400, errors: [{ path: 'body' }] });
      expect((await eventsById(target.node, target.topic)).size).toBe(before.size + 1);
    } finally {
      await target.close();
    }
  });
}
