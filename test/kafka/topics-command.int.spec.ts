import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/test-support/run-cli.ts';
import { kafkaTestHarness, testBrokers } from '../../src/transport/kafka/test-support/kafka-test-cluster.ts';
import { writeTestCatalog } from './catalog-module.ts';

describe('keel topics plan / apply on the Kafka cluster', () => {
  const harness = kafkaTestHarness('cli');
  const events = harness.topic('patients');
  const audit = harness.topic('audit');
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'keel-topics-'));
  });
  afterAll(async () => {
    await harness.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  const topics = (mode: 'plan' | 'apply', catalog: string) =>
    runCli(['topics', mode, '--catalog', catalog], {
      env: { KEEL_KAFKA_BROKERS: testBrokers().join(','), KEEL_LOG_LEVEL: 'silent' },
      cwd: dir,
      timeoutMs: 30_000,
    });

  it('plan prints the diff and changes nothing; apply makes it; a second apply has nothing to do', async () => {
    const catalog = writeTestCatalog(dir, 'v1.ts', [
      { name: events, partitions: 3, retentionMs: 3_600_000 },
      { name: audit, partitions: 1, compacted: true },
    ]);
    const planned = await topics('plan', catalog);
    expect(planned.status, planned.stderr).toBe(0);
    expect(planned.stdout).toBe(
      [
        `topics of catalog v1.ts on ${testBrokers().join(',')}`,
        // The catalog lists topics by name.
        `+ create ${audit}: 1 partition, replication 3, retention.ms=-1, retention.bytes=-1, cleanup.policy=compact`,
        `+ create ${events}: 3 partitions, replication 3, retention.ms=3600000, retention.bytes=-1, cleanup.policy=delete`,
        '',
      ].join('\n'),
    );
    const transport = harness.open();
    expect(await transport.describeTopic(events)).toBeUndefined();

    const applied = await topics('apply', catalog);
    expect(applied.status, applied.stderr).toBe(0);
    expect(applied.stdout).toContain(`+ create ${events}`);
    expect(applied.stdout).toMatch(/applied 2 change\(s\)\n$/);
    expect(await transport.describeTopic(events)).toMatchObject({ partitions: 3, retentionMs: 3_600_000 });
    expect(await transport.describeTopic(audit)).toMatchObject({ partitions: 1, compacted: true });

    const again = await topics('apply', catalog);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain(
      `= ${audit} is up to date\n= ${events} is up to date\nnothing to change\n`,
    );
  });

  it('apply raises partitions and changes retention; fewer partitions are refused with exit 1 and nothing changes', async () => {
    const grown = writeTestCatalog(dir, 'v2.ts', [
      { name: events, partitions: 6, retentionMs: 7_200_000 },
      { name: audit, partitions: 1, compacted: true },
    ]);
    const applied = await topics('apply', grown);
    expect(applied.status, applied.stderr).toBe(0);
    expect(applied.stdout).toContain(`~ raise partitions of ${events}: 3 -> 6\n`);
    expect(applied.stdout).toContain(`~ set retention.ms of ${events}: 3600000 -> 7200000\n`);
    const transport = harness.open();
    expect(await transport.describeTopic(events)).toMatchObject({ partitions: 6, retentionMs: 7_200_000 });

    const shrunk = writeTestCatalog(dir, 'v3.ts', [
      { name: events, partitions: 4, retentionMs: 60_000 },
      { name: audit, partitions: 1, compacted: true },
    ]);
    const refused = await topics('apply', shrunk);
    expect(refused.status).toBe(1);
    expect(refused.stdout).toContain(
      `! refused: topic "${events}" has 6 partitions and its definition asks for 4`,
    );
    expect(refused.stderr).toBe(
      `keel: refused, nothing changed: topic "${events}" has 6 partitions and its definition asks for 4: Kafka cannot remove partitions (raise the definition to 6, or create a new topic and move the consumers)\n`,
    );
    // The retention change of the same plan was not applied either.
    expect(await transport.describeTopic(events)).toMatchObject({ partitions: 6, retentionMs: 7_200_000 });
    const planned = await topics('plan', shrunk);
    expect(planned.status).toBe(1);
  });

  it('needs the brokers', async () => {
    const catalog = writeTestCatalog(dir, 'v4.ts', [{ name: events, partitions: 6 }]);
    const result = await runCli(['topics', 'plan', '--catalog', catalog], { cwd: dir });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      'keel: KEEL_KAFKA_BROKERS: required by keel topics plan: a comma-separated list of host:port\n',
    );
  });
});
