import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTempNode, type TempNode } from './test-support/temp-node.ts';

const TOPIC = 'healthcare.patients.events';
const CONSUMER_PY = fileURLToPath(new URL('../../examples/python/keel_consumer.py', import.meta.url));

interface Leased {
  lease: string;
  offset: string;
  key: string | null;
  event: { id: string; data: { patientId: string; changes: { n: number } } };
}

describe('consumer groups over HTTP', () => {
  let temp: TempNode;
  let base: string;
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const fetchEvents = async (group: string, options: Record<string, unknown>) =>
    (await post(`/v1/consumers/${group}/fetch`, { topics: [TOPIC], ...options })).body.events as Leased[];
  const publish = async (keys: string[], perKey: number) => {
    const events = Array.from({ length: keys.length * perKey }, (_, i) => ({
      specversion: '1.0',
      id: randomUUID(),
      source: 'urn:test:pull',
      type: 'healthcare.patient.updated',
      data: { patientId: keys[i % keys.length], changes: { n: Math.floor(i / keys.length) } },
    }));
    const response = await fetch(`${base}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents-batch+json' },
      body: JSON.stringify(events),
    });
    expect(response.status).toBe(201);
    return events;
  };
  const lag = async (group: string) =>
    (await temp.node.transport.groupLag(group, [TOPIC])).reduce((sum, p) => sum + p.lag, 0n);

  beforeAll(async () => {
    temp = await startTempNode();
    base = temp.node.url as string;
  });
  afterAll(async () => {
    await temp.close();
  });

  it("holds a key while its event is leased, and hands a crashed consumer's events to another after the lease", async () => {
    await publish(['pa', 'pb'], 3);
    // Consumer X takes one event and never acknowledges it (it crashed).
    const [held] = await fetchEvents('pull-leases', { maxEvents: 1, leaseMs: 1_000 });
    const heldKey = held!.event.data.patientId;
    // Consumer Y gets the other key's events in order, none of the held key's.
    const other = await fetchEvents('pull-leases', { maxEvents: 100, waitMs: 300 });
    expect(other.map((e) => e.event.data.patientId)).toEqual(Array(3).fill(heldKey === 'pa' ? 'pb' : 'pa'));
    expect(other.map((e) => e.event.data.changes.n)).toEqual([0, 1, 2]);
    expect((await post('/v1/consumers/pull-leases/ack', { leases: other.map((e) => e.lease) })).body).toEqual(
      {
        acknowledged: 3,
        expired: [],
      },
    );
    expect(await fetchEvents('pull-leases', { waitMs: 200 })).toEqual([]);

    // After the lease, the held key's events go to Y, starting with the one X had.
    const retaken = await fetchEvents('pull-leases', { waitMs: 3_000 });
    expect(retaken.map((e) => e.event.id)[0]).toBe(held!.event.id);
    expect(retaken.map((e) => [e.event.data.patientId, e.event.data.changes.n])).toEqual([
      [heldKey, 0],
      [heldKey, 1],
      [heldKey, 2],
    ]);
    expect((await post('/v1/consumers/pull-leases/ack', { leases: [held!.lease] })).body).toEqual({
      acknowledged: 0,
      expired: [held!.lease],
    });
    expect(await lag('pull-leases')).toBe(3n);
    await post('/v1/consumers/pull-leases/ack', { leases: retaken.map((e) => e.lease) });
    expect(await lag('pull-leases')).toBe(0n);
  });

  it('ends a waiting long poll when the node closes, instead of holding the close for its wait', async () => {
    const other = await startTempNode();
    const waiting = fetch(`${other.node.url}/v1/consumers/pull-closing/fetch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ topics: [TOPIC], waitMs: 30_000 }),
    });
    // Let the request reach its handler and start waiting (a request arriving while the node closes gets 503).
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const closed = other.close().then(() => 'closed');
    const tooLong = new Promise((resolve) => setTimeout(() => resolve('still waiting'), 15_000));
    expect(await Promise.race([closed, tooLong])).toBe('closed');
    const answer = await waiting;
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ events: [] });
  });

  it('refuses an unknown topic and other topics for a group already consuming', async () => {
    const unknown = await post('/v1/consumers/pull-bad/fetch', { topics: ['no.such.topic'], waitMs: 0 });
    expect(unknown.status).toBe(404);
    await post('/v1/consumers/pull-bad/fetch', { topics: [TOPIC], waitMs: 0 });
    const other = await post('/v1/consumers/pull-bad/fetch', { topics: [TOPIC, 'keel.other'], waitMs: 0 });
    expect(other.status).toBe(409);
    expect(other.body.errors).toEqual([expect.objectContaining({ path: 'body.topics' })]);
  });

  it('is consumed by the Python example written with the standard library only, in order per key', async () => {
    const sent = await publish(['py-1', 'py-2', 'py-3', 'py-4'], 5);
    // A new group starts at the topic's beginning: the Python consumer reads what the tests before published too.
    const total = (await temp.node.transport.offsets(TOPIC)).reduce((sum, p) => sum + Number(p.latest), 0);
    const { stdout } = await promisify(execFile)(
      'python3',
      [
        CONSUMER_PY,
        '--url',
        base,
        '--group',
        'pull-python',
        '--topic',
        TOPIC,
        '--stop-after',
        '20',
        '--wait-ms',
        '2000',
      ],
      { timeout: 60_000 },
    );
    const lines = stdout
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as {
            id: string;
            key: string;
            data: { patientId: string; changes: { n: number } };
          },
      );
    expect(lines).toHaveLength(total);
    const ids = new Set(lines.map((l) => l.id));
    for (const event of sent) expect(ids.has(event.id), event.id).toBe(true);
    for (const key of ['py-1', 'py-2', 'py-3', 'py-4']) {
      expect(
        lines.filter((l) => l.key === key).map((l) => l.data.changes.n),
        key,
      ).toEqual([0, 1, 2, 3, 4]);
    }
    expect(await lag('pull-python')).toBe(0n);
  });
});
