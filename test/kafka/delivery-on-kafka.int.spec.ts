import { randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadLetterTopic } from '../../src/bus/dead-letter/topic-names.ts';
import { patientCatalog } from '../../src/server/test-support/api-fixture.ts';
import { startTempNode, type TempNode } from '../../src/server/test-support/temp-node.ts';
import {
  startWebhookEndpoint,
  type WebhookEndpoint,
} from '../../src/server/test-support/webhook-endpoint.ts';
import type { KafkaTransport } from '../../src/transport/kafka/kafka-transport.ts';
import { kafkaTestHarness, testBrokers } from '../../src/transport/kafka/test-support/kafka-test-cluster.ts';

// Push delivery and the HTTP consumer API on a node whose transport is the Kafka test cluster.
const harness = kafkaTestHarness('delivery');
const name = `kafka-${randomBytes(4).toString('hex')}`;
let temp: TempNode;
let topic: string;
let endpoint: WebhookEndpoint;

const post = async (path: string, body: unknown, contentType = 'application/json') => {
  const response = await fetch(`${temp.node.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};
const publish = async (keys: string[], perKey: number) => {
  const events = Array.from({ length: keys.length * perKey }, (_, i) => ({
    specversion: '1.0',
    id: randomUUID(),
    source: 'urn:test:delivery-kafka',
    type: 'healthcare.patient.updated',
    data: { patientId: keys[i % keys.length] as string, changes: { n: Math.floor(i / keys.length) } },
  }));
  expect((await post('/v1/events', events, 'application/cloudevents-batch+json')).status).toBe(201);
  return events;
};

beforeAll(async () => {
  topic = harness.topic('patients');
  temp = await startTempNode({
    catalog: patientCatalog(topic),
    config: { transport: 'kafka', kafkaBrokers: testBrokers() },
  });
  endpoint = await startWebhookEndpoint();
}, 60_000);

afterAll(async () => {
  await temp.close();
  await endpoint.close();
  const transport = harness.open();
  await (transport as KafkaTransport)
    .deleteTopics([deadLetterTopic(`keel.delivery.${name}`)])
    .catch(() => {});
  await harness.cleanup();
}, 60_000);

describe('delivery on Kafka', () => {
  it('pushes events appended after the subscription was created, signed, in order per key', async () => {
    await publish(['before'], 2); // appended before: not delivered
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const created = await post('/v1/subscriptions', { name, url: `${endpoint.url}/kafka`, secret });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const sent = await publish(['k1', 'k2', 'k3'], 4);
    const received = await endpoint.waitFor('/kafka', sent.length, 30_000);
    const verifier = new Webhook(secret);
    const bodies = received.map(
      (r) => verifier.verify(r.body, r.headers) as { patientId: string; changes: { n: number } },
    );
    expect(bodies.some((b) => b.patientId === 'before')).toBe(false);
    for (const key of ['k1', 'k2', 'k3']) {
      expect(bodies.filter((b) => b.patientId === key).map((b) => b.changes.n)).toEqual([0, 1, 2, 3]);
    }
  });

  it('serves a consumer group over HTTP with leases and commits what was acknowledged', async () => {
    const group = harness.group('http');
    const sent = await publish(['h1', 'h2'], 3);
    // A new group starts at the beginning: it reads what the test before published too.
    const total = (await temp.node.transport.offsets(topic)).reduce((sum, p) => sum + Number(p.latest), 0);
    const seen: { lease: string; event: { id: string } }[] = [];
    const deadline = Date.now() + 30_000;
    while (seen.length < total && Date.now() < deadline) {
      const answer = await post(`/v1/consumers/${group}/fetch`, { topics: [topic], waitMs: 2_000 });
      const events = answer.body.events as { lease: string; event: { id: string } }[];
      seen.push(...events);
      if (events.length > 0) await post(`/v1/consumers/${group}/ack`, { leases: events.map((e) => e.lease) });
    }
    expect(seen).toHaveLength(total);
    const ids = new Set(seen.map((e) => e.event.id));
    for (const event of sent) expect(ids.has(event.id)).toBe(true);
    await expect
      .poll(
        async () => (await temp.node.transport.groupLag(group, [topic])).reduce((sum, p) => sum + p.lag, 0n),
        {
          timeout: 10_000,
        },
      )
      .toBe(0n);
  });
});
