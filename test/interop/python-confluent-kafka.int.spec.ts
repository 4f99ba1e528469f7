import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublisher } from '../../src/bus/publisher.ts';
import { createRouter } from '../../src/bus/router.ts';
import { CounterIncremented } from '../../src/bus/test-support/counter-catalog.ts';
import { createCatalog } from '../../src/events/catalog.ts';
import type { CloudEvent } from '../../src/events/cloud-event.ts';
import { defineTopic } from '../../src/events/define-topic.ts';
import { kafkaTestHarness, testBrokers } from '../../src/transport/kafka/test-support/kafka-test-cluster.ts';

const silent = pino({ level: 'silent' });
const SERVICE = fileURLToPath(new URL('./python/ce_service.py', import.meta.url));
// Debian's package installs for the system interpreter, not for one a version manager puts first on PATH.
const PYTHON = '/usr/bin/python3';

/** Fails with how to install it when Debian's python3-confluent-kafka is missing. */
function requireConfluentKafka(): void {
  const probe = spawnSync(PYTHON, ['-c', 'import confluent_kafka'], { encoding: 'utf8' });
  if (probe.status !== 0)
    throw new Error(
      `the Python interop test needs Debian's python3-confluent-kafka for ${PYTHON}: ` +
        `run \`apt-get update && apt-get install -y python3-confluent-kafka\` (${probe.stderr.trim() || probe.error})`,
    );
}

interface Consumed {
  id: string;
  type: string;
  source: string;
  specversion: string;
  key: string;
  correlationid: string;
  traceparent: string;
  data: { key: string; seq: number };
}

describe('interop with a Python service on confluent-kafka (CloudEvents Kafka binding, binary mode)', () => {
  const harness = kafkaTestHarness('py-interop');
  beforeAll(() => requireConfluentKafka());
  afterAll(() => harness.cleanup());

  it('consumes events Keel published and publishes follow-ups a Keel Router handles, correlation and trace carried', async () => {
    const transport = harness.open();
    const out = defineTopic({
      name: harness.topic('to-python'),
      partitions: 3,
      events: [CounterIncremented],
    });
    const back = defineTopic({ name: harness.topic('from-python'), partitions: 3, events: [] });
    await transport.ensureTopics([out, back]);
    const publisher = createPublisher({
      transport,
      catalog: createCatalog({ topics: [out] }),
      source: 'urn:keel:py-interop',
      logger: silent,
    });
    const traceId = `${'a'.repeat(31)}1`;
    const sent = [];
    for (let seq = 0; seq < 6; seq++) {
      sent.push(
        await publisher.publish(
          CounterIncremented,
          { key: `k${seq % 2}`, seq },
          { correlationId: `corr-${seq}`, traceparent: `00-${traceId}-${'b'.repeat(15)}${seq}-01` },
        ),
      );
    }
    await publisher.close();

    const run = promisify(execFile)(
      PYTHON,
      [
        SERVICE,
        '--brokers',
        testBrokers().join(','),
        '--group',
        harness.group('python'),
        '--in-topic',
        out.name,
        '--out-topic',
        back.name,
        '--count',
        '6',
      ],
      { timeout: 90_000 },
    );
    const { stdout } = await run;
    const consumed = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Consumed);
    expect(consumed.map((c) => c.id).sort()).toEqual(sent.map((r) => r.id).sort());
    for (const c of consumed) {
      expect(c).toMatchObject({
        type: CounterIncremented.type,
        source: 'urn:keel:py-interop',
        specversion: '1.0',
      });
      expect(c.key).toBe(c.data.key);
      expect(c.correlationid).toBe(`corr-${c.data.seq}`);
      expect(c.traceparent.split('-')[1]).toBe(traceId);
    }
    for (const key of ['k0', 'k1']) {
      expect(consumed.filter((c) => c.key === key).map((c) => c.data.seq)).toEqual(
        key === 'k0' ? [0, 2, 4] : [1, 3, 5],
      );
    }

    // A Keel Router handles what the Python service published.
    const backWithType = defineTopic({ name: back.name, partitions: 3, events: [CounterIncremented] });
    const handled: CloudEvent<{ key: string; seq: number }>[] = [];
    const router = createRouter({
      transport,
      catalog: createCatalog({ topics: [backWithType] }),
      group: harness.group('keel'),
      logger: silent,
      shutdownSignals: [],
      sessionTimeoutMs: 6_000,
      circuitBreaker: false,
    });
    router.on(CounterIncremented, (event) => {
      handled.push(event);
    });
    await router.start();
    try {
      const deadline = Date.now() + 30_000;
      while (handled.length < 6 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      await router.close(5_000);
    }
    expect(handled).toHaveLength(6);
    for (const event of handled) {
      const seq = event.data!.seq - 1000;
      expect(event.source).toBe('urn:python:confluent-kafka');
      expect(event.correlationid).toBe(`corr-${seq}`);
      expect(event.causationid).toBe(sent[seq]!.id);
      expect(event.traceparent?.split('-')[1]).toBe(traceId);
      expect(event.partitionkey).toBe(`k${seq % 2}`);
    }
  });
});
