import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli, type WatchedProcess } from '../../src/cli/test-support/run-cli.ts';
import {
  startWebhookEndpoint,
  type WebhookEndpoint,
} from '../../src/server/test-support/webhook-endpoint.ts';

const EVENTS = 600;
const KEYS = 12;

/** Starts `keel start` on the data folder and resolves with the process and its URL. */
async function startNode(dir: string): Promise<{ node: WatchedProcess; url: string }> {
  const node = spawnCli(['start'], { env: { KEEL_PORT: '0', KEEL_DATA_DIR: dir, KEEL_SYNC: 'normal' } });
  const line = await node.waitForLine(/^keel listening on /, 30_000);
  return { node, url: /^keel listening on (http:\/\/\S+) /.exec(line)?.[1] ?? '' };
}

describe('push delivery across a SIGKILL of the node', () => {
  let dir: string;
  let endpoint: WebhookEndpoint;
  const nodes: WatchedProcess[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keel-delivery-kill-'));
    endpoint = await startWebhookEndpoint();
    // A few milliseconds per request keeps deliveries in flight when the node is killed.
    endpoint.answer('/hook', { status: 200, delayMs: 3 });
  });
  afterAll(async () => {
    for (const node of nodes) if (node.child.exitCode === null) node.child.kill('SIGKILL');
    await endpoint.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers every event at least once, in order per key, after the node is killed mid-delivery and restarted', async () => {
    const first = await startNode(dir);
    nodes.push(first.node);
    const created = await fetch(`${first.url}/v1/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'kill-test',
        url: `${endpoint.url}/hook`,
        secret: `whsec_${randomBytes(32).toString('base64')}`,
        policy: { concurrency: 16 },
      }),
    });
    expect(created.status).toBe(201);

    const sent = Array.from({ length: EVENTS }, (_, i) => ({
      specversion: '1.0',
      id: randomUUID(),
      source: 'urn:test:delivery-kill',
      type: 'healthcare.patient.updated',
      data: { patientId: `p-${i % KEYS}`, changes: { n: i } },
    }));
    for (let i = 0; i < EVENTS; i += 100) {
      const published = await fetch(`${first.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents-batch+json' },
        body: JSON.stringify(sent.slice(i, i + 100)),
      });
      expect(published.status).toBe(201);
    }

    await endpoint.waitFor('/hook', 100, 30_000);
    first.node.child.kill('SIGKILL');
    await new Promise((resolve) => first.node.child.once('exit', resolve));
    const atKill = new Set(endpoint.at('/hook').map((r) => r.headers['webhook-id'])).size;
    expect(atKill).toBeLessThan(EVENTS); // killed mid-delivery

    const second = await startNode(dir);
    nodes.push(second.node);
    const survived = await fetch(`${second.url}/v1/subscriptions/kill-test`);
    expect(survived.status).toBe(200);
    expect(await survived.json()).toMatchObject({ status: 'active', url: `${endpoint.url}/hook` });
    const ids = new Set<string>(sent.map((e) => e.id));
    await endpoint.waitFor('/hook', EVENTS, 60_000, (r) => ids.has(r.headers['webhook-id'] ?? ''));
    await expect
      .poll(() => new Set(endpoint.at('/hook').map((r) => r.headers['webhook-id'])).size, { timeout: 60_000 })
      .toBe(EVENTS);

    // Order per key over first arrivals: each patient's events arrived in publish order.
    const firstArrival = new Map<string, number>();
    endpoint.at('/hook').forEach((r, index) => {
      const id = r.headers['webhook-id'] as string;
      if (!firstArrival.has(id)) firstArrival.set(id, index);
    });
    for (let key = 0; key < KEYS; key++) {
      const published: string[] = sent.filter((e) => e.data.patientId === `p-${key}`).map((e) => e.id);
      const arrived = [...published].sort(
        (a, b) => (firstArrival.get(a) as number) - (firstArrival.get(b) as number),
      );
      expect(arrived, `p-${key}`).toEqual(published);
    }
    const copies = endpoint.at('/hook').length - EVENTS;
    expect(copies).toBeLessThan(EVENTS); // redelivery is bounded by what was in flight and uncommitted
    second.node.child.kill('SIGTERM');
  });
});
