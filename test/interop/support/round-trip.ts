import { pino } from 'pino';
import { expect } from 'vitest';
import { createPublisher } from '../../../src/bus/publisher.ts';
import { createRouter } from '../../../src/bus/router.ts';
import { CounterIncremented } from '../../../src/bus/test-support/counter-catalog.ts';
import { createCatalog } from '../../../src/events/catalog.ts';
import type { CloudEvent } from '../../../src/events/cloud-event.ts';
import { defineTopic } from '../../../src/events/define-topic.ts';
import type { KafkaTestHarness } from '../../../src/transport/kafka/test-support/kafka-test-cluster.ts';

const silent = pino({ level: 'silent' });

/** What the service of another language is told: where to consume from and publish to. */
export interface ServiceRun {
  group: string;
  inTopic: string;
  outTopic: string;
  count: number;
}

/** One event as the other service printed it. */
export interface Consumed {
  id: string;
  type: string;
  source: string;
  specversion: string;
  key: string;
  correlationid: string;
  traceparent: string;
  data: { key: string; seq: number };
}

/**
 * The round trip every interop service makes: Keel publishes six events over two keys with correlation ids
 * and a trace; the service (`run`, resolving with its stdout: one JSON line per event consumed) consumes
 * them and publishes a follow-up for each; a Keel Router handles the follow-ups. Asserts what each side saw.
 */
export async function roundTrip(
  harness: KafkaTestHarness,
  serviceSource: string,
  run: (service: ServiceRun) => Promise<string>,
): Promise<void> {
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

  const stdout = await run({
    group: harness.group('service'),
    inTopic: out.name,
    outTopic: back.name,
    count: 6,
  });
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
    expect(event.source).toBe(serviceSource);
    expect(event.correlationid).toBe(`corr-${seq}`);
    expect(event.causationid).toBe(sent[seq]!.id);
    expect(event.traceparent?.split('-')[1]).toBe(traceId);
    expect(event.partitionkey).toBe(`k${seq % 2}`);
  }
}
