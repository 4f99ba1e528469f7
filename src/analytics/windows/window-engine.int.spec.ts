import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createPublisher } from '../../bus/publisher.ts';
import { createCatalog } from '../../events/catalog.ts';
import { defineEvent } from '../../events/define-event.ts';
import { defineTopic } from '../../events/define-topic.ts';
import { fromRecord } from '../../events/kafka-binding.ts';
import { createEmbeddedTransport } from '../../transport/embedded/index.ts';
import { createWindowEngine, type WindowEngine } from './window-engine.ts';

const VitalsRecorded = defineEvent({
  type: 'test.vitals.recorded',
  version: 1,
  schema: z.object({ ward: z.string(), heartRate: z.number() }),
  partitionKey: (data) => data.ward,
});
const topic = defineTopic({ name: 'vitals', partitions: 2, replication: 1, events: [VitalsRecorded] });

describe('window engine on the embedded log', () => {
  let dir: string | undefined;
  let engine: WindowEngine | undefined;
  afterEach(async () => {
    await engine?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('publishes each closed window once as keel.analytics.window.closed and answers queries', async () => {
    dir = await mkdtemp(join(tmpdir(), 'keel-windows-'));
    const transport = createEmbeddedTransport({ path: join(dir, 'bus.db'), maintenanceIntervalMs: 0 });
    await transport.ensureTopics([{ name: topic.name, partitions: 2 }]);
    const publisher = createPublisher({
      transport,
      catalog: createCatalog({ topics: [topic] }),
      source: 'urn:test',
    });
    // Ward a: 60 events a minute for 5 minutes, heart rate 60..119; ward b: 30 a minute at 90.
    const t0 = Date.parse('2026-06-01T00:00:00Z');
    for (let s = 0; s < 300; s++) {
      await publisher.publish(
        VitalsRecorded,
        { ward: 'a', heartRate: 60 + (s % 60) },
        { time: new Date(t0 + s * 1_000).toISOString() },
      );
      if (s % 2 === 0)
        await publisher.publish(
          VitalsRecorded,
          { ward: 'b', heartRate: 90 },
          { time: new Date(t0 + s * 1_000 + 500).toISOString() },
        );
    }
    // Closes the fifth minute on both partitions.
    for (const ward of ['a', 'b'])
      await publisher.publish(
        VitalsRecorded,
        { ward, heartRate: 0 },
        { time: new Date(t0 + 3_600_000).toISOString() },
      );
    await publisher.close();

    engine = createWindowEngine({
      transport,
      topics: [topic.name],
      windows: [
        { id: 'hr-per-ward', kind: 'tumbling', size: '1m', by: 'data.ward', value: 'data.heartRate' },
      ],
    });
    await engine.start();
    const deadline = Date.now() + 20_000;
    while (engine.query('hr-per-ward').length < 10 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));

    const a = engine.query('hr-per-ward', { key: 'a' });
    expect(a.map((r) => [r.start - t0, r.count, r.rate, r.mean, r.min, r.max])).toEqual(
      [0, 1, 2, 3, 4].map((m) => [m * 60_000, 60, 1, 89.5, 60, 119]),
    );
    expect(
      engine
        .query('hr-per-ward', { key: 'b', from: t0 + 120_000, to: t0 + 240_000 })
        .map((r) => [r.count, r.mean]),
    ).toEqual([
      [30, 90],
      [30, 90],
    ]);
    // Published: one event per closed window and ward, ten in all.
    await new Promise((r) => setTimeout(r, 300));
    const published = [];
    for (let p = 0; p < 3; p++)
      published.push(...(await transport.read('keel.analytics', p, 0n, 1_000)).map(fromRecord));
    expect(published.map((e) => e.type)).toEqual(Array(10).fill('keel.analytics.window.closed'));
    expect(new Set(published.map((e) => e.id)).size).toBe(10);
    await engine.close();
    engine = undefined;
    await transport.close();
  });

  it('flags a window whose rate or mean leaves its band and publishes keel.analytics.anomaly.detected', async () => {
    dir = await mkdtemp(join(tmpdir(), 'keel-windows-'));
    const transport = createEmbeddedTransport({ path: join(dir, 'bus.db'), maintenanceIntervalMs: 0 });
    await transport.ensureTopics([{ name: topic.name, partitions: 2 }]);
    const publisher = createPublisher({
      transport,
      catalog: createCatalog({ topics: [topic] }),
      source: 'urn:test',
    });
    // 40 minutes of ward a at 10 events a minute around 80 bpm; minute 35 has 40 events, minute 38 a mean of 150.
    const t0 = Date.parse('2026-06-01T00:00:00Z');
    for (let m = 0; m <= 40; m++) {
      const n = m === 35 ? 40 : 10;
      const data = Array.from({ length: n }, (_, i) => ({
        ward: 'a',
        heartRate: m === 38 ? 150 : 78 + ((i + m) % 5),
      }));
      await publisher.publishMany(VitalsRecorded, data, {
        time: new Date(t0 + m * 60_000 + 1_000).toISOString(),
      });
    }
    await publisher.close();
    engine = createWindowEngine({
      transport,
      topics: [topic.name],
      windows: [{ id: 'hr', kind: 'tumbling', size: '1m', by: 'data.ward', value: 'data.heartRate' }],
      anomalies: { warmup: 10, window: 30 },
    });
    await engine.start();
    const deadline = Date.now() + 20_000;
    while (engine.query('hr').length < 40 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(engine.anomalies().map((a) => [(a.start - t0) / 60_000, a.measure, a.value])).toEqual([
      [35, 'rate', 40 / 60],
      [38, 'mean', 150],
    ]);
    const anomaliesPublished = async () => {
      const published = [];
      for (let p = 0; p < 3; p++)
        published.push(...(await transport.read('keel.analytics', p, 0n, 1_000)).map(fromRecord));
      return published.filter((e) => e.type === 'keel.analytics.anomaly.detected');
    };
    const until = Date.now() + 10_000;
    while ((await anomaliesPublished()).length < 2 && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));
    const anomalies = await anomaliesPublished();
    expect(anomalies.map((e) => (e.data as { measure: string }).measure).sort()).toEqual(['mean', 'rate']);
    await engine.close();
    engine = undefined;
    await transport.close();
  });
});
