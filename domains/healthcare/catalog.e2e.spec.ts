import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli, type WatchedProcess } from '../../src/cli/test-support/run-cli.ts';
import { dataschemaFor } from '../../src/index.ts';
import { catalog, VitalSignsRecorded } from './catalog.ts';
import { exampleOf } from './define.ts';

describe('keel start on the healthcare pack (no KEEL_CATALOG)', () => {
  let dir: string;
  let node: WatchedProcess;
  let baseUrl: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keel-healthcare-'));
    node = spawnCli(['start'], { env: { KEEL_PORT: '0', KEEL_DATA_DIR: dir, KEEL_SYNC: 'normal' } });
    // Ten topics (108 partitions) are created on the first start; a busy machine takes its time.
    const firstLine = await node.waitForLine(/./, 90_000);
    expect(firstLine).toMatch(/, catalog domains\/healthcare\/catalog\.ts\)$/);
    baseUrl = /^keel listening on (http:\/\/\S+) /.exec(firstLine)?.[1] ?? '';
  }, 120_000);

  afterAll(async () => {
    if (node.child.exitCode === null) {
      node.child.kill('SIGTERM');
      await node.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves every event type of the pack and its topics', async () => {
    const answer = (await (await fetch(`${baseUrl}/v1/catalog`)).json()) as {
      events: { type: string }[];
      topics: { name: string }[];
    };
    expect(answer.events.map((event) => event.type).sort()).toEqual(
      catalog.events.map((event) => event.type),
    );
    expect(answer.topics.map((topic) => topic.name)).toEqual(
      expect.arrayContaining(catalog.topics.map((topic) => topic.name)),
    );
  });

  it("stores the example of every event type, each on its topic under its example's key", async () => {
    const batch = catalog.events.map((event) => ({
      specversion: '1.0',
      id: randomUUID(),
      source: 'urn:keel:healthcare:test',
      type: event.type,
      data: exampleOf(event),
    }));
    const response = await fetch(`${baseUrl}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents-batch+json' },
      body: JSON.stringify(batch),
    });
    expect(response.status, await response.clone().text()).toBe(201);
    const { events } = (await response.json()) as { events: { type: string; topic: string }[] };
    expect(events.map((receipt) => [receipt.type, receipt.topic])).toEqual(
      catalog.events.map((event) => [event.type, catalog.route(event.type).topic.name]),
    );
  });

  it('takes vital signs written at version 1 and stores them upcast to version 2', async () => {
    const id = randomUUID();
    const response = await fetch(`${baseUrl}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({
        specversion: '1.0',
        id,
        source: 'urn:keel:healthcare:legacy-monitor',
        type: VitalSignsRecorded.type,
        dataschema: dataschemaFor(VitalSignsRecorded.type, 1),
        data: { patientId: 'patient-v1', recordedAt: '2024-12-02T10:15:00Z', heartRate: 131, spo2: 91 },
      }),
    });
    expect(response.status, await response.clone().text()).toBe(201);
    const { events } = (await response.json()) as {
      events: { topic: string; partition: number; offset: string }[];
    };
    const where = events[0]!;
    const message = (await (
      await fetch(`${baseUrl}/v1/topics/${where.topic}/partitions/${where.partition}/offsets/${where.offset}`)
    ).json()) as { event: { id: string; dataschema: string; data: unknown } };
    expect(message.event).toMatchObject({
      id,
      dataschema: dataschemaFor(VitalSignsRecorded.type, 2),
      data: {
        patientId: 'patient-v1',
        recordedAt: '2024-12-02T10:15:00Z',
        vitals: { heartRate: 131, oxygenSaturation: 91 },
      },
    });
  });
});
