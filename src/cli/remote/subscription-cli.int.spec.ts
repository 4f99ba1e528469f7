import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTempNode, type TempNode } from '../../server/test-support/temp-node.ts';
import { startWebhookEndpoint, type WebhookEndpoint } from '../../server/test-support/webhook-endpoint.ts';
import { runCli } from '../test-support/run-cli.ts';

let temp: TempNode;
let endpoint: WebhookEndpoint;
const keel = (args: string[]) =>
  runCli(args, { env: { KEEL_URL: temp.node.url as string }, timeoutMs: 30_000 });

beforeAll(async () => {
  temp = await startTempNode();
  endpoint = await startWebhookEndpoint();
});
afterAll(async () => {
  await temp.close();
  await endpoint.close();
});

describe('keel subscriptions', () => {
  it('creates a subscription with a new secret, lists it, shows its attempts, disables, enables and deletes it', async () => {
    const created = await keel([
      'subscriptions',
      'create',
      'cli-hook',
      '--endpoint',
      `${endpoint.url}/cli`,
      '--types',
      'healthcare.patient.updated',
    ]);
    expect(created.status, created.stderr).toBe(0);
    const secret = /signing secret \(shown once\): (whsec_\S+)/.exec(created.stderr)?.[1] as string;
    expect(secret).toMatch(/^whsec_/);
    expect(created.stdout).toContain('cli-hook active →');

    const list = await keel(['subscriptions', 'list']);
    expect(list.stdout).toMatch(/^NAME\s+STATUS\s+ENDPOINT/);
    expect(list.stdout).toContain('cli-hook');

    const id = randomUUID();
    const published = await fetch(`${temp.node.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({
        specversion: '1.0',
        id,
        source: 'urn:test:cli',
        type: 'healthcare.patient.updated',
        data: { patientId: 'p-cli', changes: {} },
      }),
    });
    expect(published.status).toBe(201);
    const [request] = await endpoint.waitFor('/cli', 1, 10_000);
    expect(new Webhook(secret).verify(request!.body, request!.headers)).toEqual({
      patientId: 'p-cli',
      changes: {},
    });

    const attempts = await keel(['subscriptions', 'attempts', 'cli-hook', '-o', 'json']);
    expect(JSON.parse(attempts.stdout)).toEqual([
      expect.objectContaining({ eventId: id, outcome: 'delivered', status: 204 }),
    ]);

    const disabled = await keel(['subscriptions', 'disable', 'cli-hook', '--reason', 'maintenance']);
    expect(disabled.stdout).toContain('cli-hook disabled (maintenance)');
    expect((await keel(['subscriptions', 'enable', 'cli-hook'])).stdout).toContain('cli-hook active');
    expect((await keel(['subscriptions', 'delete', 'cli-hook'])).stdout).toBe('deleted cli-hook\n');
    const gone = await keel(['subscriptions', 'show', 'cli-hook']);
    expect(gone.status).toBe(3);
  });

  it('pause and resume are disable and enable by their other names', async () => {
    const created = await fetch(`${temp.node.url}/v1/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'cli-pause',
        url: `${endpoint.url}/pause`,
        secret: `whsec_${Buffer.alloc(32, 3).toString('base64')}`,
      }),
    });
    expect(created.status).toBe(201);
    const paused = await keel(['subscriptions', 'pause', 'cli-pause', '--reason', 'their deploy']);
    expect(paused.stdout).toContain('cli-pause disabled (their deploy)');
    expect((await keel(['subscriptions', 'resume', 'cli-pause'])).stdout).toContain('cli-pause active');
  });

  it('refuses a bad URL with the reason and exit code 4', async () => {
    const refused = await keel(['subscriptions', 'create', 'bad', '--endpoint', 'ftp://x']);
    expect(refused.status).toBe(4);
    expect(refused.stderr).toMatch(/url.*http or https/);
  });
});
