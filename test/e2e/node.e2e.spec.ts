import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli, spawnScript, type WatchedProcess } from '../../src/cli/test-support/run-cli.ts';

const ROUTER_PROCESS = fileURLToPath(new URL('./router-process.ts', import.meta.url));
const CREATED = 'healthcare.patient.created';

describe('keel start as a real process', () => {
  let dir: string;
  let node: WatchedProcess;
  let firstLine: string;
  let baseUrl: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keel-e2e-'));
    node = spawnCli(['start'], { env: { KEEL_PORT: '0', KEEL_DATA_DIR: dir, KEEL_SYNC: 'normal' } });
    // The default catalog (the healthcare pack) makes ten topics and registers 33 schemas on a first start.
    firstLine = await node.waitForLine(/./, 60_000);
    baseUrl = /^keel listening on (http:\/\/\S+) /.exec(firstLine)?.[1] ?? '';
  }, 90_000);

  afterAll(async () => {
    if (node.child.exitCode === null) node.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints where it listens (the real port) and its data file as the first line', () => {
    expect(node.stdout().startsWith(`${firstLine}\n`)).toBe(true);
    expect(firstLine).toBe(
      `keel listening on ${baseUrl} (transport embedded, data ${join(dir, 'keel.db')}, catalog domains/healthcare/catalog.ts)`,
    );
    expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*$/);
  });

  it('stores a binary and a structured CloudEvent that a router in another process consumes, counts them, and stops with 0 on SIGTERM', async () => {
    const binaryId = randomUUID();
    const binary = await fetch(`${baseUrl}/v1/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'ce-specversion': '1.0',
        'ce-id': binaryId,
        'ce-source': 'urn:keel:e2e',
        'ce-type': CREATED,
      },
      body: JSON.stringify({
        patientId: 'p-1',
        firstName: 'Ada',
        lastName: 'Lovelace',
        dateOfBirth: '1815-12-10',
      }),
    });
    expect(binary.status).toBe(201);
    expect(await binary.json()).toMatchObject({ events: [{ id: binaryId, type: CREATED }] });

    const structuredId = randomUUID();
    const structured = await fetch(`${baseUrl}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({
        specversion: '1.0',
        id: structuredId,
        source: 'urn:keel:e2e',
        type: CREATED,
        data: { patientId: 'p-2', firstName: 'Grace', lastName: 'Hopper', dateOfBirth: '1906-12-09' },
      }),
    });
    expect(structured.status).toBe(201);
    expect(await structured.json()).toMatchObject({ events: [{ id: structuredId, type: CREATED }] });

    const router = spawnScript(ROUTER_PROCESS, [join(dir, 'keel.db'), '2']);
    try {
      await router.waitForLine(new RegExp(`^handled ${binaryId}$`), 20_000);
      await router.waitForLine(new RegExp(`^handled ${structuredId}$`), 20_000);
      const ended = await router.exited;
      expect(ended.status, ended.stderr).toBe(0);
    } finally {
      if (router.child.exitCode === null) router.child.kill('SIGKILL');
    }

    const metrics = await (await fetch(`${baseUrl}/metrics`)).text();
    expect(metrics).toContain(
      `keel_event_published_total{type="${CREATED}",topic="healthcare.patients.events"} 2\n`,
    );

    node.child.kill('SIGTERM');
    const result = await node.exited;
    expect(result.signal).toBeNull();
    expect(result.status).toBe(0);
  });
});
