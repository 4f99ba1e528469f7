import { Admin } from '@platformatic/kafka';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterHealth, killNode, startNode, stopNode } from '../../scripts/kafka.mjs';
import { createSqliteInbox } from '../../src/bus/inbox/sqlite-inbox.ts';
import { createPublisher } from '../../src/bus/publisher.ts';
import type { PublishReceipt } from '../../src/bus/publisher-port.ts';
import { createRouter } from '../../src/bus/router.ts';
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
    // Counts the produce requests and transactions that failed and went again, for the summary line.
    let failedSends = 0;
    let rerunTransactions = 0;
    const logger = pino(
      { level: 'warn' },
      {
        write: (line: string) => {
          if (line.includes('produce request failed')) failedSends++;
          if (line.includes('transaction failed before its commit')) rerunTransactions++;
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

    // Atomic appends run beside the publishes, two partitions each, on a topic of their own.
    const atomicTopic = { name: harness.topic('atomic'), partitions: 12, replication: 3 };
    await transport.ensureTopics([atomicTopic]);
    let publishing = true;
    let atomicAcknowledged = 0;
    const atomicFailures: string[] = [];
    const atomicWorker = async (worker: number) => {
      for (let i = 0; publishing; i++) {
        const partition = (worker * 5 + i) % atomicTopic.partitions;
        const record = { key: `w${worker}`, value: Buffer.from(`${worker}:${i}`), headers: {} };
        try {
          await transport.appendAtomically([
            { topic: atomicTopic.name, partition, records: [record] },
            {
              topic: atomicTopic.name,
              partition: (partition + 5) % atomicTopic.partitions,
              records: [record],
            },
          ]);
          atomicAcknowledged++;
        } catch (error) {
          atomicFailures.push((error as Error).message);
        }
      }
    };
    const atomic = Array.from({ length: 8 }, (_, worker) => atomicWorker(worker));

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
      publishing = false;
      await Promise.all(atomic);
      await killing;
    } finally {
      publishing = false;
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
    // A transaction caught by the leader change is aborted and run again: none fails, and every one that was
    // acknowledged is there whole (two records each; aborted ones are invisible to reads).
    expect(atomicFailures).toEqual([]);
    let atomicRecords = 0;
    for (let partition = 0; partition < atomicTopic.partitions; partition++) {
      for (let offset = 0n; ; ) {
        const records = await transport.read(atomicTopic.name, partition, offset, 1_000);
        if (records.length === 0) break;
        atomicRecords += records.length;
        offset = records.at(-1)!.offset + 1n;
      }
    }
    expect(atomicAcknowledged).toBeGreaterThan(0);
    expect(atomicRecords).toBe(atomicAcknowledged * 2);

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
      `broker failure: ${acknowledged.size} acknowledged, ${failed} failed, ${failedSends} produce requests failed (sent again), killed after ${killedAt} acks, publishing stalled ${stalledMs} ms; ${atomicAcknowledged} atomic appends, ${rerunTransactions} transactions run again\n`,
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

describe('a transaction the brokers refuse for a while (a broker stopped, min.insync.replicas=3)', () => {
  const harness = kafkaTestHarness('refused-transaction');
  afterAll(() => harness.cleanup());

  // The transaction waits for the stopped node to come back and catch up: a minute on a busy machine.
  it('is aborted and run again until they take it, and is written once', { timeout: 180_000 }, async () => {
    let runAgain = 0;
    const logger = pino(
      { level: 'warn' },
      {
        write: (line: string) => {
          if (line.includes('transaction failed before its commit')) runAgain++;
        },
      },
    );
    const transport = harness.open({ logger, producer: { deliveryTimeoutMs: 150_000 } });
    const topic = { name: harness.topic('strict'), partitions: 3, replication: 3, minInsyncReplicas: 3 };
    await transport.ensureTopics([topic]);
    const write = (partition: number, value: string) => ({
      topic: topic.name,
      partition,
      records: [{ key: value, value: Buffer.from(value), headers: {} }],
    });
    await transport.appendAtomically([write(0, 'before-0'), write(1, 'before-1')]);

    // A stopped broker leaves every partition's in-sync set: each send of the transaction is refused
    // (NOT_ENOUGH_REPLICAS) until it is back and caught up.
    await stopNode(3);
    let appended: Promise<bigint[][]> | undefined;
    try {
      appended = transport.appendAtomically([write(1, 'during-1'), write(2, 'during-2')]);
      // Awaited below, after the node is back; a rejection before then is not an unhandled one.
      appended.catch(() => undefined);
      await until(() => runAgain > 0, 30_000, 'the transaction run again');
    } finally {
      await startNode(3);
    }
    await appended;
    expect(runAgain).toBeGreaterThan(0);

    // The attempts that failed were aborted, so reads see each record once.
    const values: string[] = [];
    for (let partition = 0; partition < topic.partitions; partition++) {
      for (const record of await transport.read(topic.name, partition, 0n, 100)) {
        values.push(Buffer.from(record.value!).toString());
      }
    }
    expect(values.sort()).toEqual(['before-0', 'before-1', 'during-1', 'during-2']);
  });
});

describe('leader changes (the quorum leader, then a follower, SIGKILLed while keyed events are published)', () => {
  const harness = kafkaTestHarness('leader-change');
  afterAll(() => harness.cleanup());
  const CALLERS = 600;
  const MANY_CALLERS = 4;
  const MANY_SIZE = 100;

  it('leave no duplicate and no gap in the log, each key in publish order, through publish and publishMany', {
    timeout: 300_000,
  }, async () => {
    let resends = 0;
    let lostSessions = 0;
    const logger = pino(
      { level: 'warn' },
      {
        write: (line: string) => {
          if (line.includes('produce request failed; sending again')) resends++;
          if (line.includes('lost the idempotent session')) lostSessions++;
        },
      },
    );
    const transport = harness.open({ logger });
    const { topic, catalog } = paddedCatalog(harness.topic('events'), 12);
    await transport.ensureTopics([topic]);
    const publisher = createPublisher({
      transport,
      catalog,
      source: 'urn:keel:leader-change',
      logger: silent,
    });

    const acknowledged = new Map<string, { key: string; seq: number }>();
    const acknowledgedAt: number[] = [];
    let failed = 0;
    let next = 0;
    let publishing = true;
    const data = (seq: number) => ({ key: `k${seq % KEYS}`, seq, pad: PAD });
    const single = async () => {
      while (publishing) {
        const event = data(next++);
        try {
          const receipt = await publisher.publish(PaddedEvent, event);
          acknowledged.set(receipt.id, event);
          acknowledgedAt.push(Date.now());
        } catch {
          failed++;
        }
      }
    };
    const many = async () => {
      while (publishing) {
        const events = Array.from({ length: MANY_SIZE }, () => data(next++));
        try {
          const receipts = await publisher.publishMany(PaddedEvent, events);
          for (const [i, receipt] of receipts.entries()) acknowledged.set(receipt.id, events[i]!);
          acknowledgedAt.push(Date.now());
        } catch {
          failed += events.length;
        }
      }
    };
    const workers = [
      ...Array.from({ length: CALLERS }, single),
      ...Array.from({ length: MANY_CALLERS }, many),
    ];

    // Each kill: publishing runs a while, the node is SIGKILLed, publishing goes on through the leader
    // change, the node comes back; the longest wait for an acknowledgement after the kill is the stall.
    const kills: Array<{ node: number; role: string; stalledMs: number }> = [];
    const killAndRestart = async (role: 'quorum leader' | 'follower') => {
      const { quorum } = await clusterHealth();
      const leader = quorum?.leaderId ?? 1;
      // A follower other than the node killed last, so each kill moves different partitions.
      const follower = [1, 2, 3].find((id) => id !== leader && id !== kills.at(-1)?.node)!;
      const node = role === 'quorum leader' ? leader : follower;
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const killedAt = Date.now();
      const seen = acknowledgedAt.length;
      await killNode(node);
      try {
        await until(
          () => acknowledged.size > 0 && acknowledgedAt.length > seen + 5_000,
          60_000,
          'publishing resumed',
        );
      } finally {
        await startNode(node);
      }
      let stalledMs = 0;
      for (let i = seen, previous = killedAt; i < acknowledgedAt.length; previous = acknowledgedAt[i++]!) {
        stalledMs = Math.max(stalledMs, acknowledgedAt[i]! - previous);
      }
      kills.push({ node, role, stalledMs });
    };
    try {
      await killAndRestart('quorum leader');
      await killAndRestart('follower');
      await killAndRestart('quorum leader');
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    } finally {
      publishing = false;
      await Promise.all(workers);
    }
    expect(failed).toBe(0);

    // The whole topic, read back: each event once, each key's events in publish order.
    const copies = new Map<string, number>();
    const lastSeq = new Map<string, number>();
    let outOfOrder = 0;
    for (let partition = 0; partition < topic.partitions; partition++) {
      for (let offset = 0n; ; ) {
        const records = await transport.read(topic.name, partition, offset, 5_000);
        if (records.length === 0) break;
        for (const record of records) {
          const id = record.headers.ce_id!;
          copies.set(id, (copies.get(id) ?? 0) + 1);
          const { key, seq } = JSON.parse(Buffer.from(record.value!).toString()) as {
            key: string;
            seq: number;
          };
          if ((lastSeq.get(key) ?? -1) >= seq) outOfOrder++;
          lastSeq.set(key, seq);
        }
        offset = records.at(-1)!.offset + 1n;
      }
    }
    const duplicates = [...copies.values()].filter((n) => n > 1).length;
    const missing = [...acknowledged.keys()].filter((id) => !copies.has(id)).length;
    process.stderr.write(
      `leader changes: ${acknowledged.size} acknowledged, ${copies.size} in the log, ${resends} resends, ${lostSessions} lost sessions; ${kills
        .map((k) => `${k.role} (node ${k.node}) stalled ${k.stalledMs} ms`)
        .join(', ')}\n`,
    );
    expect(resends).toBeGreaterThan(0);
    expect({ duplicates, missing, outOfOrder, extra: copies.size - acknowledged.size }).toEqual({
      duplicates: 0,
      missing: 0,
      outOfOrder: 0,
      extra: 0,
    });
    expect((await clusterHealth()).healthy).toBe(true);
  });
});
