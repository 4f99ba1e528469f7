import { Admin } from '@platformatic/kafka';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterHealth, killNode, startNode } from '../../scripts/kafka.mjs';
import { createSqliteInbox } from '../../src/bus/inbox/sqlite-inbox.ts';
import { createPublisher } from '../../src/bus/publisher.ts';
import { createRouter } from '../../src/bus/router.ts';
import type { PublishReceipt } from '../../src/bus/types.ts';
import { kafkaTestHarness, testBrokers } from '../../src/transport/kafka/test-support/kafka-test-cluster.ts';
import { PAD, PaddedEvent, paddedCatalog } from './support/padded-catalog.ts';

const silent = pino({ level: 'silent' });
const EVENTS = 50_000;
const KEYS = 500;
const IN_FLIGHT = 2_000;
const KILLED_NODE = 2;

const until = async (condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

describe('broker failure (SIGKILL one of three brokers while publishing with acks=all)', () => {
  const harness = kafkaTestHarness('broker-failure');
  afterAll(() => harness.cleanup());

  it('every acknowledged event is handled exactly once in effect, in order per key, and the cluster heals', {
    timeout: 150_000,
  }, async () => {
    // Counts the produce requests that failed (and were retried by the Publisher), for the summary line.
    let failedSends = 0;
    const logger = pino(
      { level: 'warn' },
      {
        write: (line: string) => {
          if (line.includes('produce request failed')) failedSends++;
        },
      },
    );
    // The default delivery timeout (120 s): a produce request caught by the leader change must be sent again
    // to the new leaders well before it, not fail at it.
    const transport = harness.open({ logger });
    const { topic, catalog } = paddedCatalog(harness.topic('events'), 12);
    await transport.ensureTopics([topic]);
    const publisher = createPublisher({
      transport,
      catalog,
      source: 'urn:keel:broker-failure',
      logger: silent,
    });

    const acknowledged = new Map<string, { key: string; seq: number }>();
    let failed = 0;
    let killedAt = -1;
    // When each acknowledgement after the kill arrived: the longest gap is how long publishing stalled.
    let killedAtMs = 0;
    const acknowledgedAtMs: number[] = [];
    let killing: Promise<number> | undefined;
    try {
      // A window of publishes in flight, as a busy service would have; the kill lands mid-stream.
      let next = 0;
      const worker = async () => {
        while (next < EVENTS) {
          const seq = next++;
          const data = { key: `k${seq % KEYS}`, seq, pad: PAD };
          // Not awaited: this worker's publish must not fall behind later ones of its key.
          if (seq === 15_000) {
            killedAt = acknowledged.size;
            killedAtMs = Date.now();
            killing = killNode(KILLED_NODE);
          }
          try {
            const receipt: PublishReceipt = await publisher.publish(PaddedEvent, data);
            acknowledged.set(receipt.id, { key: data.key, seq });
            if (killedAtMs > 0) acknowledgedAtMs.push(Date.now());
          } catch {
            failed++;
          }
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
      await killing;
    } finally {
      await killing?.catch(() => undefined);
      // The cluster is shared with every other test: the node comes back whatever happened.
      await startNode(KILLED_NODE);
    }
    expect(killedAt).toBeGreaterThan(0);
    expect(acknowledged.size + failed).toBe(EVENTS);
    // Kafka's idempotent producer retries through the leader change; nothing should even fail.
    expect(acknowledged.size).toBeGreaterThan(EVENTS * 0.99);
    // The partitions the killed node led move to the two others (a broker's session expires in seconds);
    // publishing goes on once they have, long before the 120 s delivery timeout.
    let stalledMs = 0;
    for (let i = 0, previous = killedAtMs; i < acknowledgedAtMs.length; previous = acknowledgedAtMs[i++]!) {
      stalledMs = Math.max(stalledMs, acknowledgedAtMs[i]! - previous);
    }
    expect(stalledMs).toBeLessThan(30_000);

    // An idempotent handler: the inbox skips redeliveries; counting calls shows any second effect.
    const inbox = createSqliteInbox({ path: ':memory:' });
    const effects = new Map<string, number>();
    const lastSeq = new Map<string, number>();
    let outOfOrder = 0;
    const router = createRouter({
      transport,
      catalog,
      group: harness.group('handlers'),
      inbox,
      concurrency: 256,
      logger: silent,
      shutdownSignals: [],
      circuitBreaker: false,
    });
    router.on(PaddedEvent, (event) => {
      const { key, seq } = event.data!;
      effects.set(event.id, (effects.get(event.id) ?? 0) + 1);
      if ((lastSeq.get(key) ?? -1) >= seq) outOfOrder++;
      lastSeq.set(key, seq);
    });
    await router.start();
    try {
      await until(() => [...acknowledged.keys()].every((id) => effects.has(id)), 60_000, 'all handled');
    } finally {
      await router.close(5_000);
      await inbox.close();
    }
    const missing = [...acknowledged.keys()].filter((id) => !effects.has(id));
    const doubled = [...effects.values()].filter((n) => n > 1).length;
    process.stderr.write(
      `broker failure: ${acknowledged.size} acknowledged, ${failed} failed, ${failedSends} produce requests failed (sent again), killed after ${killedAt} acks, publishing stalled ${stalledMs} ms\n`,
    );
    expect({ missing: missing.length, doubled, outOfOrder }).toEqual({
      missing: 0,
      doubled: 0,
      outOfOrder: 0,
    });

    // The cluster heals: the restarted broker catches up and every partition is fully in sync again.
    const admin = new Admin({ clientId: 'keel-test-isr', bootstrapBrokers: testBrokers() });
    try {
      await until(
        async () => {
          const metadata = await admin.metadata({ topics: [topic.name], forceUpdate: true });
          const partitions = metadata.topics.get(topic.name)?.partitions ?? [];
          return (
            partitions.length === topic.partitions &&
            partitions.every((p) => p.replicas.length === 3 && p.isr.length === 3)
          );
        },
        60_000,
        'under-replicated partitions back to 0',
      );
    } finally {
      await admin.close();
    }
    expect((await clusterHealth()).healthy).toBe(true);
  });
});
