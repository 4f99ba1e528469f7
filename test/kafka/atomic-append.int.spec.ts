import { Admin } from '@platformatic/kafka';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { type Child, runScript } from '../../src/test-support/child-process.ts';
import type { KafkaTransport } from '../../src/transport/kafka/index.ts';
import { kafkaTestHarness, testBrokers } from '../../src/transport/kafka/test-support/kafka-test-cluster.ts';
import type { StoredRecord } from '../../src/transport/transport.ts';

const silent = pino({ level: 'silent' });
const RECORDS = 40;

/** Every record of a partition as `read` returns it, in pages. */
async function readAll(transport: KafkaTransport, topic: string, partition: number): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  for (;;) {
    const page = await transport.read(topic, partition, (out.at(-1)?.offset ?? -1n) + 1n, 500);
    if (page.length === 0) return out;
    out.push(...page);
  }
}

/** Records of `topic` a fresh group member gets, until `expected` arrived and nothing more came for a while. */
async function consumeAll(
  transport: KafkaTransport,
  topic: string,
  group: string,
  expected: number,
): Promise<StoredRecord[]> {
  const consumer = transport.consumer({ group, topics: [topic], sessionTimeoutMs: 6_000 });
  const seen: StoredRecord[] = [];
  const deadline = Date.now() + 30_000;
  let quietSince = Date.now();
  try {
    while (Date.now() < deadline) {
      const records = await consumer.poll(200);
      if (records.length > 0) quietSince = Date.now();
      seen.push(...records);
      if (seen.length >= expected && Date.now() - quietSince > 1_000) break;
    }
  } finally {
    await consumer.close();
  }
  return seen;
}

/** Records per transaction id (header `txn`). */
const byTransaction = (records: readonly StoredRecord[]): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const record of records) {
    const txn = record.headers.txn ?? '?';
    counts.set(txn, (counts.get(txn) ?? 0) + 1);
  }
  return counts;
};

describe('Kafka atomic appends (transactions)', () => {
  const harness = kafkaTestHarness('atomic');
  const children: Child[] = [];
  afterAll(async () => {
    await Promise.all(children.map((child) => child.kill()));
    await harness.cleanup();
  });

  it('a transaction the brokers refuse in part is aborted: readers and members see none of it, ever', {
    timeout: 60_000,
  }, async () => {
    const transport = harness.open({ logger: silent });
    const orders = harness.topic('orders');
    const small = harness.topic('small-records');
    await transport.ensureTopics([{ name: orders, partitions: 2 }]);
    // A topic whose brokers refuse records over 1,000 bytes: the transaction's write there fails at the broker,
    // after its write to `orders` was accepted.
    const admin = new Admin({ clientId: 'keel-test-admin', bootstrapBrokers: testBrokers() });
    try {
      await admin.createTopics({
        topics: [small],
        partitions: 1,
        replicas: 3,
        configs: [{ name: 'max.message.bytes', value: '1000' }],
      });
    } finally {
      await admin.close();
    }
    await transport.ensureTopics([{ name: small, partitions: 1 }]);

    const big = { key: 'a', value: new Uint8Array(5_000), headers: { txn: 'refused' } };
    // Three refusals in a row from one producer: each aborted range must be skipped, not just the last.
    for (let attempt = 0; attempt < 3; attempt++) {
      await expect(
        transport.appendAtomically([
          {
            topic: orders,
            partition: 0,
            records: [{ key: 'a', value: new TextEncoder().encode('lost'), headers: { txn: 'refused' } }],
          },
          { topic: orders, partition: 1, records: [{ key: 'b', value: null, headers: { txn: 'refused' } }] },
          { topic: small, partition: 0, records: [big] },
        ]),
      ).rejects.toMatchObject({ code: 'KEEL_KAFKA_OPERATION' });
    }
    // The aborted records took offsets: the partitions' log end moved, yet nothing there is readable.
    expect((await transport.offsets(orders)).every((p) => p.latest > 0n)).toBe(true);
    const kept = await transport.appendAtomically([
      {
        topic: orders,
        partition: 0,
        records: [{ key: 'a', value: new TextEncoder().encode('kept'), headers: { txn: 'kept' } }],
      },
      { topic: orders, partition: 1, records: [{ key: 'b', value: null, headers: { txn: 'kept' } }] },
    ]);
    const read = [...(await readAll(transport, orders, 0)), ...(await readAll(transport, orders, 1))];
    expect(read.map((r) => [r.partition, r.offset, r.headers.txn])).toEqual([
      [0, kept[0]![0], 'kept'],
      [1, kept[1]![0], 'kept'],
    ]);
    const consumed = await consumeAll(transport, orders, harness.group('refused'), 2);
    expect(consumed.map((r) => r.headers.txn)).toEqual(['kept', 'kept']);
  });

  it('a writer SIGKILLed mid-transaction leaves only whole transactions, and its restart aborts the open one at once', {
    timeout: 120_000,
  }, async () => {
    const transport = harness.open({ logger: silent });
    const topic = harness.topic('killed');
    await transport.ensureTopics([{ name: topic, partitions: 3 }]);
    const transactionalId = `${topic}-writer`;
    const writer = runScript(new URL('./support/atomic-writer.ts', import.meta.url).href, [
      testBrokers().join(','),
      topic,
      transactionalId,
      String(RECORDS),
    ]);
    children.push(writer);
    const committed = () => writer.lines.filter((line) => line.text.startsWith('committed ')).length;
    await writer.waitForLine((text) => text.startsWith('committed '), 60_000);
    while (committed() < 10) await new Promise((resolve) => setTimeout(resolve, 10));
    // Somewhere inside the next transactions: each spans several produce requests.
    await new Promise((resolve) => setTimeout(resolve, 7 + Math.floor(Math.random() * 40)));
    writer.process.kill('SIGKILL');
    await writer.exited;
    const acknowledged = writer.lines
      .filter((line) => line.text.startsWith('committed '))
      .map((line) => line.text.split(' ')[1]!);

    // The next incarnation, same transactional id: its first transaction fences the dead one's. The dead
    // one's transaction timeout is 10 minutes, so only that fencing lets this append become readable.
    const restarted = harness.open({ logger: silent, producer: { transactionalId } });
    await restarted.appendAtomically([
      { topic, partition: 0, records: [{ key: 'after', value: null, headers: { txn: 'after' } }] },
    ]);

    const every: StoredRecord[] = [];
    for (const partition of [0, 1, 2]) every.push(...(await readAll(transport, topic, partition)));
    const counts = byTransaction(every);
    expect(counts.get('after')).toBe(1);
    counts.delete('after');
    // Every acknowledged transaction is there, and every transaction there is whole.
    for (const txn of acknowledged) expect(counts.get(txn), `transaction ${txn}`).toBe(3 * RECORDS);
    const partial = [...counts].filter(([, count]) => count !== 3 * RECORDS);
    expect(partial).toEqual([]);
    expect(counts.size - acknowledged.length).toBeLessThanOrEqual(2);

    // A consumer group sees the same: whole transactions only, each record once.
    const consumed = await consumeAll(transport, topic, harness.group('after-kill'), every.length);
    expect(consumed).toHaveLength(every.length);
    expect(byTransaction(consumed)).toEqual(byTransaction(every));
  });
});
