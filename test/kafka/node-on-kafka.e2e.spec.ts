import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli, type WatchedProcess } from '../../src/cli/test-support/run-cli.ts';
import { fromRecord } from '../../src/events/kafka-binding.ts';
import { kafkaTestHarness, testBrokers } from '../../src/transport/kafka/test-support/kafka-test-cluster.ts';
import { writeTestCatalog } from './catalog-module.ts';

describe('keel start with KEEL_TRANSPORT=kafka, as a real process', () => {
  const harness = kafkaTestHarness('node');
  const topic = harness.topic('patients');
  let dir: string;
  let node: WatchedProcess;
  let baseUrl: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keel-kafka-node-'));
    const catalog = writeTestCatalog(dir, 'catalog.ts', [
      { name: topic, partitions: 6, retentionMs: 3_600_000 },
    ]);
    node = spawnCli(['start'], {
      env: {
        KEEL_TRANSPORT: 'kafka',
        KEEL_KAFKA_BROKERS: testBrokers().join(','),
        KEEL_CATALOG: catalog,
        KEEL_PORT: '0',
        KEEL_DATA_DIR: join(dir, 'data'),
      },
      cwd: dir,
    });
    const firstLine = await node.waitForLine(/./, 30_000);
    // On Kafka the first line names the brokers, not the data file.
    expect(firstLine).toMatch(
      new RegExp(` \\(transport kafka, brokers ${testBrokers().join(',').replaceAll('.', '\\.')}, catalog `),
    );
    baseUrl = /^keel listening on (http:\/\/\S+) \(transport kafka,/.exec(firstLine)?.[1] ?? firstLine;
  }, 40_000);

  afterAll(async () => {
    if (node.child.exitCode === null) node.child.kill('SIGKILL');
    await harness.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("creates the catalog's topics on start, stores a posted event in Kafka (binary mode) and stops with 0 on SIGTERM", async () => {
    expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*$/);
    const transport = harness.open();
    expect(await transport.describeTopic(topic)).toMatchObject({ partitions: 6, retentionMs: 3_600_000 });

    const id = randomUUID();
    const data = { patientId: 'p-42', firstName: 'Ada', lastName: 'Lovelace', dateOfBirth: '1815-12-10' };
    const response = await fetch(`${baseUrl}/v1/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'ce-specversion': '1.0',
        'ce-id': id,
        'ce-source': 'urn:keel:e2e',
        'ce-type': 'healthcare.patient.created',
      },
      body: JSON.stringify(data),
    });
    expect(response.status).toBe(201);
    const { events } = (await response.json()) as {
      events: [{ id: string; topic: string; partition: number; offset: string }];
    };
    expect(events[0]).toMatchObject({ id, topic });

    const [record] = await transport.read(topic, events[0].partition, BigInt(events[0].offset), 1);
    expect(record?.key).toBe('p-42');
    expect(record?.headers).toMatchObject({
      ce_id: id,
      ce_type: 'healthcare.patient.created',
      ce_source: 'urn:keel:e2e',
      ce_specversion: '1.0',
      ce_partitionkey: 'p-42',
      'content-type': 'application/json',
    });
    expect(fromRecord(record!)).toMatchObject({ id, type: 'healthcare.patient.created', data });

    node.child.kill('SIGTERM');
    const ended = await node.exited;
    expect(ended.status, ended.stderr).toBe(0);
  });
});
