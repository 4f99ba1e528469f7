import { randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTempNode, type TempNode } from './test-support/temp-node.ts';
import { startWebhookEndpoint, type WebhookEndpoint } from './test-support/webhook-endpoint.ts';

const CREATED = 'healthcare.patient.created';
const UPDATED = 'healthcare.patient.updated';
/** The fields of the answers these tests read. */
interface ApiBody {
  items: Item[];
  errors: { path: string; message: string }[];
  id: string;
  status: string;
  endpoint: string;
  deadLetters: string;
  disabledReason: string | null;
  running: unknown;
  counts: Record<string, number>;
}
interface Item {
  id: string;
  eventId: string;
  kind: string;
  outcome: string;
  status: number | string;
  excerpt: string;
  error: string;
  failure: { errorType: string; attempts: number };
}
const secret = () => `whsec_${randomBytes(32).toString('base64')}`;
const fast = { maxAttempts: 3, initialDelayMs: 20, maxDelayMs: 50, timeoutMs: 1_000 };

describe('push subscriptions on a node', () => {
  let temp: TempNode;
  let base: string;
  let endpoint: WebhookEndpoint;

  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as ApiBody };
  };
  const publish = async (events: { type?: string; patientId: string; n: number; source?: string }[]) => {
    const batch = events.map((e) => ({
      specversion: '1.0',
      id: randomUUID(),
      source: e.source ?? 'urn:test:delivery',
      type: e.type ?? UPDATED,
      data: { patientId: e.patientId, changes: { n: e.n } },
    }));
    const response = await fetch(`${base}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents-batch+json' },
      body: JSON.stringify(batch),
    });
    expect(response.status).toBe(201);
    return batch;
  };
  const create = async (name: string, path: string, extra: Record<string, unknown> = {}) => {
    const key = secret();
    const created = await api('POST', '/v1/subscriptions', {
      name,
      url: `${endpoint.url}${path}`,
      secret: key,
      ...extra,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return key;
  };

  beforeAll(async () => {
    temp = await startTempNode();
    base = temp.node.url as string;
    endpoint = await startWebhookEndpoint();
  });
  afterAll(async () => {
    await temp.close();
    await endpoint.close();
  });

  it('refuses an invalid URL, filter or secret with the reason, and stores nothing', async () => {
    const good = { name: 'refused', url: `${endpoint.url}/x`, secret: secret() };
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ url: 'not a url' }, 'body.url', /not an absolute URL/],
      [{ url: 'ftp://example.com/x' }, 'body.url', /http or https/],
      [{ secret: 'abc' }, 'body.secret', /whsec_/],
      [{ secret: `whsec_${randomBytes(8).toString('base64')}` }, 'body.secret', /decodes to 8 bytes/],
      [{ filter: { condition: 'data.changes.n >' } }, 'body.filter.condition', /not a CEL expression/],
      [{ filter: { types: ['no.such.type'] } }, 'body.filter.types.0', /not an event type/],
      [{ name: 'Bad Name' }, 'body.name', /lower-case/],
    ];
    for (const [change, path, message] of cases) {
      const answer = await api('POST', '/v1/subscriptions', { ...good, ...change });
      expect(answer.status, JSON.stringify(change)).toBe(400);
      expect(answer.body.errors, JSON.stringify(change)).toContainEqual(
        expect.objectContaining({ path, message: expect.stringMatching(message) }),
      );
    }
    expect((await api('GET', '/v1/subscriptions')).body.items).toEqual([]);
  });

  it('delivers matching events signed by Standard Webhooks, in binary and structured mode, in order per key', async () => {
    const binaryKey = await create('binary', '/binary', {
      filter: { types: [UPDATED], condition: "data.patientId in ['p-0', 'p-2']" },
    });
    const structuredKey = await create('structured', '/structured', {
      mode: 'structured',
      filter: { types: [UPDATED] },
    });
    expect(
      (await api('POST', '/v1/subscriptions', { name: 'binary', url: `${endpoint.url}/b`, secret: secret() }))
        .status,
    ).toBe(409);
    const sent = await publish(
      Array.from({ length: 40 }, (_, i) => ({ patientId: `p-${i % 4}`, n: Math.floor(i / 4) * 2 + (i % 2) })),
    );
    const even = sent.filter((e) => ['p-0', 'p-2'].includes(e.data.patientId));
    const binary = await endpoint.waitFor('/binary', even.length, 10_000);
    const structured = await endpoint.waitFor('/structured', sent.length, 10_000);

    // The official Standard Webhooks library verifies every request (it throws on a bad signature).
    const binaryVerifier = new Webhook(binaryKey);
    for (const request of binary) {
      expect(binaryVerifier.verify(request.body, request.headers)).toEqual(JSON.parse(request.body));
      expect(request.headers['webhook-id']).toBe(request.headers['ce-id']);
      expect(request.headers['ce-type']).toBe(UPDATED);
      expect(request.headers['content-type']).toMatch(/^application\/json/);
    }
    expect(() => new Webhook(structuredKey).verify(binary[0]!.body, binary[0]!.headers)).toThrow();
    const structuredVerifier = new Webhook(structuredKey);
    for (const request of structured) {
      expect(request.headers['content-type']).toMatch(/^application\/cloudevents\+json/);
      const event = structuredVerifier.verify(request.body, request.headers) as {
        id: string;
        partitionkey: string;
      };
      expect(request.headers['webhook-id']).toBe(event.id);
    }
    expect(new Set(binary.map((r) => r.headers['ce-id']))).toEqual(new Set(even.map((e) => e.id)));
    // Order per key: each patient's events arrive in publish order.
    const orderOf = (
      requests: { body: string; headers: Record<string, string> }[],
      structuredMode: boolean,
    ) => {
      const byKey = new Map<string, number[]>();
      for (const r of requests) {
        const event = structuredMode ? JSON.parse(r.body) : { data: JSON.parse(r.body) };
        const list = byKey.get(event.data.patientId) ?? [];
        list.push(event.data.changes.n);
        byKey.set(event.data.patientId, list);
      }
      return byKey;
    };
    for (const [key, ns] of orderOf(binary, false)) {
      expect(ns, key).toEqual(even.filter((e) => e.data.patientId === key).map((e) => e.data.changes.n));
    }
    for (const [key, ns] of orderOf(structured, true)) {
      expect(ns, key).toEqual(sent.filter((e) => e.data.patientId === key).map((e) => e.data.changes.n));
    }
    const attempts = await api('GET', '/v1/subscriptions/binary/attempts?limit=500');
    expect(attempts.body.items).toHaveLength(even.length);
    expect(attempts.body.items[0]).toMatchObject({
      kind: 'live',
      outcome: 'delivered',
      status: 204,
      error: null,
    });
  });

  it('retries a failing endpoint with backoff and records every attempt with its status and answer', async () => {
    endpoint.answer('/flaky', (_request, count) =>
      count <= 2 ? { status: 503, body: `busy ${count}` } : { status: 200 },
    );
    await create('flaky', '/flaky', { policy: fast });
    const [event] = await publish([{ patientId: 'p-flaky', n: 1 }]);
    await endpoint.waitFor('/flaky', 3, 10_000);
    await expect
      .poll(
        async () =>
          (await api('GET', `/v1/subscriptions/flaky/attempts?eventId=${event!.id}`)).body.items.length,
      )
      .toBe(3);
    const { body } = await api('GET', `/v1/subscriptions/flaky/attempts?eventId=${event!.id}`);
    expect(body.items.map((a) => [a.status, a.outcome, a.excerpt])).toEqual([
      [200, 'delivered', ''],
      [503, 'failed', 'busy 2'],
      [503, 'failed', 'busy 1'],
    ]);
    expect(new Set(endpoint.at('/flaky').map((r) => r.headers['webhook-id']))).toEqual(new Set([event!.id]));
  });

  it('records a timeout and a dropped connection as failed attempts and retries them by policy', async () => {
    endpoint.answer('/faulty', (_request, count) =>
      count === 1 ? 'hang' : count === 2 ? 'reset' : { status: 200 },
    );
    await create('faulty', '/faulty', { policy: { ...fast, timeoutMs: 300 } });
    const [event] = await publish([{ patientId: 'p-faulty', n: 1 }]);
    await endpoint.waitFor('/faulty', 3, 10_000);
    const attempts = async () =>
      (await api('GET', `/v1/subscriptions/faulty/attempts?eventId=${event!.id}`)).body.items;
    await expect.poll(async () => (await attempts()).length, { timeout: 10_000 }).toBe(3);
    const [delivered, reset, timedOut] = await attempts();
    expect(timedOut).toMatchObject({ outcome: 'failed', status: null, error: 'no answer within 300 ms' });
    expect(reset).toMatchObject({
      outcome: 'failed',
      status: null,
      error: expect.stringMatching(/closed before the answer|ECONNRESET/),
    });
    expect(delivered).toMatchObject({ outcome: 'delivered', status: 200 });
  });

  it('keeps delivering to other endpoints while one is down; its breaker opens', async () => {
    const down = await startWebhookEndpoint();
    await down.close(); // nothing listens on its port any more: connection refused
    const created = await api('POST', '/v1/subscriptions', {
      name: 'down',
      url: `${down.url}/down`,
      secret: secret(),
      policy: { ...fast, maxAttempts: 100, maxDelayMs: 200 },
    });
    expect(created.status).toBe(201);
    await create('healthy', '/healthy');
    const sent = await publish(Array.from({ length: 30 }, (_, i) => ({ patientId: `p-d${i % 6}`, n: i })));
    await endpoint.waitFor('/healthy', sent.length, 10_000);
    await expect
      .poll(async () => (await api('GET', '/v1/subscriptions/down')).body.endpoint, { timeout: 10_000 })
      .toBe('open');
    const failed = await api('GET', '/v1/subscriptions/down/attempts?limit=500');
    expect(failed.body.items.length).toBeGreaterThanOrEqual(5);
    expect(failed.body.items.every((a) => a.outcome === 'failed' && /ECONNREFUSED/.test(a.error))).toBe(true);
    expect((await api('GET', '/v1/subscriptions/healthy')).body.endpoint).toBe('closed');
    expect((await api('DELETE', '/v1/subscriptions/down')).body).toEqual({ name: 'down', deleted: true });
    expect((await api('GET', '/v1/subscriptions/down')).status).toBe(404);
  });

  it("dead-letters an event that keeps failing in the subscription's DLQ, retried and discarded with the Router's API", async () => {
    endpoint.answer('/broken', { status: 500, body: 'boom' });
    await create('broken', '/broken', { policy: { ...fast, maxAttempts: 2 } });
    const [first, second] = await publish([
      { patientId: 'p-b1', n: 1 },
      { patientId: 'p-b2', n: 2 },
    ]);
    const { body: subscription } = await api('GET', '/v1/subscriptions/broken');
    expect(subscription.deadLetters).toBe('/v1/groups/keel.delivery.broken/dead-letters');
    await expect
      .poll(async () => (await api('GET', subscription.deadLetters)).body.items.length, { timeout: 10_000 })
      .toBe(2);
    const entries = (await api('GET', subscription.deadLetters)).body.items as {
      id: string;
      eventId: string;
      failure: { errorType: string; attempts: number };
    }[];
    expect(entries.map((e) => e.eventId).sort()).toEqual([first!.id, second!.id].sort());
    expect(entries[0]!.failure).toMatchObject({ errorType: 'DeliveryFailedError', attempts: 2 });

    endpoint.answer('/broken', { status: 202 });
    const toRetry = entries.find((e) => e.eventId === first!.id)!;
    const toDiscard = entries.find((e) => e.eventId === second!.id)!;
    expect((await api('POST', `${subscription.deadLetters}/${toRetry.id}/retry`)).status).toBe(200);
    expect(
      (await api('POST', `${subscription.deadLetters}/${toDiscard.id}/discard`, { reason: 'obsolete' }))
        .status,
    ).toBe(200);
    await endpoint.waitFor('/broken', 1, 10_000, (r) => r.headers['webhook-id'] === first!.id && r.at > 0);
    await expect
      .poll(
        async () =>
          (await api('GET', `/v1/subscriptions/broken/attempts?eventId=${first!.id}&outcome=delivered`)).body
            .items.length,
        { timeout: 10_000 },
      )
      .toBe(1);
    const statuses = (await api('GET', `${subscription.deadLetters}?limit=10`)).body.items
      .map((e) => e.status)
      .sort();
    expect(statuses).toEqual(['discarded', 'retried']);
  });

  it('disables a subscription whose endpoint answers 410 Gone, dead-letters the event, and resumes when enabled', async () => {
    endpoint.answer('/gone', { status: 410, body: 'unsubscribed' });
    await create('gone', '/gone', { policy: fast });
    const [event] = await publish([{ patientId: 'p-gone', n: 1 }]);
    await expect
      .poll(async () => (await api('GET', '/v1/subscriptions/gone')).body.status, { timeout: 10_000 })
      .toBe('disabled');
    const { body } = await api('GET', '/v1/subscriptions/gone');
    expect(body.disabledReason).toMatch(/410 Gone/);
    expect(body.running).toBeNull();
    expect(endpoint.at('/gone')).toHaveLength(1); // not retried
    const attempts = (await api('GET', '/v1/subscriptions/gone/attempts')).body.items;
    expect(attempts).toEqual([
      expect.objectContaining({ eventId: event!.id, outcome: 'gone', status: 410, excerpt: 'unsubscribed' }),
    ]);
    await expect
      .poll(async () => (await api('GET', `${body.deadLetters}`)).body.items.length, { timeout: 10_000 })
      .toBe(1);

    // Events appended while disabled wait in the group; enabling resumes from where it stopped.
    const [later] = await publish([{ patientId: 'p-gone', n: 2 }]);
    endpoint.answer('/gone', { status: 200 });
    expect((await api('POST', '/v1/subscriptions/gone/enable')).body.status).toBe('active');
    await endpoint.waitFor('/gone', 1, 10_000, (r) => r.headers['webhook-id'] === later!.id);
  });

  it('holds a subscription to its rate limit without slowing another subscription', async () => {
    const filter = { types: [UPDATED], condition: 'data.patientId.startsWith("p-rate")' };
    await create('limited', '/limited', { filter, policy: { ratePerSecond: 20, rateBurst: 1 } });
    await create('unlimited', '/unlimited', { filter });
    const before = Date.now();
    const sent = await publish(Array.from({ length: 40 }, (_, i) => ({ patientId: `p-rate${i % 4}`, n: i })));
    const limited = (await endpoint.waitFor('/limited', sent.length, 20_000))
      .map((r) => r.at)
      .sort((a, b) => a - b);
    const unlimited = (await endpoint.waitFor('/unlimited', sent.length, 20_000)).map((r) => r.at);
    // 20 per second with a burst of one: the k-th request is sent no sooner than k intervals of 50 ms after
    // the publish, so the k-th arrival is no sooner either, however late any request travelled. A floor on
    // time: a slow machine only makes it easier (25 ms allowed for the clocks of timers and Date.now).
    for (const [k, at] of limited.entries())
      expect(at - before, `request ${k}`).toBeGreaterThanOrEqual(k * 50 - 25);
    // The other subscription, on the same events and endpoint, was done before the limited one.
    expect(Math.max(...unlimited)).toBeLessThan(limited.at(-1)!);
  });

  it('replays a range of events to the endpoint as a job, same ids, in order per key', async () => {
    await create('replayed', '/replayed', { filter: { types: [CREATED] } });
    const before = Date.now() - 1;
    const created = Array.from({ length: 12 }, (_, i) => ({
      specversion: '1.0',
      id: randomUUID(),
      source: 'urn:test:delivery',
      type: CREATED,
      data: { patientId: `p-r${i % 3}`, firstName: `F${i}`, lastName: 'L', dateOfBirth: '2000-01-01' },
    }));
    const response = await fetch(`${base}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents-batch+json' },
      body: JSON.stringify(created),
    });
    expect(response.status).toBe(201);
    await endpoint.waitFor('/replayed', 12, 10_000);
    const after = Date.now() + 1;

    const job = await api('POST', '/v1/subscriptions/replayed/replay', {
      from: new Date(before).toISOString(),
      to: new Date(after).toISOString(),
    });
    expect(job.status).toBe(202);
    await expect
      .poll(async () => (await api('GET', `/v1/jobs/${job.body.id}`)).body.status, { timeout: 10_000 })
      .toBe('succeeded');
    expect((await api('GET', `/v1/jobs/${job.body.id}`)).body.counts).toEqual({ delivered: 12 });
    const requests = endpoint.at('/replayed');
    expect(requests).toHaveLength(24);
    const replayed = requests.slice(12);
    expect(new Set(replayed.map((r) => r.headers['webhook-id']))).toEqual(new Set(created.map((e) => e.id)));
    for (const key of ['p-r0', 'p-r1', 'p-r2']) {
      expect(
        replayed.filter((r) => JSON.parse(r.body).patientId === key).map((r) => r.headers['webhook-id']),
      ).toEqual(created.filter((e) => e.data.patientId === key).map((e) => e.id));
    }
    const replayAttempts = (await api('GET', '/v1/subscriptions/replayed/attempts?limit=100')).body.items;
    expect(replayAttempts.filter((a) => a.kind === 'replay')).toHaveLength(12);
    const bad = await api('POST', '/v1/subscriptions/replayed/replay', {
      from: new Date(after).toISOString(),
      to: new Date(before).toISOString(),
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toContainEqual(expect.objectContaining({ path: 'body.to' }));
  });
});
