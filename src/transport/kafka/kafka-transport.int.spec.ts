import { Writable } from 'node:stream';
import { Admin, Consumer as KafkaClientConsumer } from '@platformatic/kafka';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { defineTopic } from '../../events/define-topic.ts';
import { outgoing, pollUntil, text } from '../contract/contract-helpers.ts';
import type { Consumer, StoredRecord } from '../transport.ts';
import type { KafkaCompression } from './kafka-options.ts';
import type { KafkaTransport } from './kafka-transport.ts';
import { kafkaTestHarness, testBrokers } from './test-support/kafka-test-cluster.ts';

const harness = kafkaTestHarness('adapter', { consumer: { heartbeatIntervalMs: 250 } });
const consumers: Consumer[] = [];
afterEach(async () => {
  await Promise.allSettled(consumers.splice(0).map((c) => c.close()));
  await harness.cleanup();
});

const member = (transport: KafkaTransport, options: Parameters<KafkaTransport['consumer']>[0]): Consumer => {
  const c = transport.consumer(options);
  consumers.push(c);
  return c;
};

/** The whole partition, read in pages. */
async function readAll(transport: KafkaTransport, topic: string, partition: number): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  for (;;) {
    const page = await transport.read(
      topic,
      partition,
      out.at(-1) === undefined ? 0n : out.at(-1)!.offset + 1n,
      500,
    );
    if (page.length === 0) return out;
    out.push(...page);
  }
}

/** A trace-level logger whose lines are kept, to count what the adapter did. */
function capturingLogger(): { logger: pino.Logger; lines: () => Array<{ msg: string; records?: number }> } {
  const lines: Array<{ msg: string; records?: number }> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'trace' }, sink), lines: () => lines };
}

describe('Kafka transport: producer', () => {
  it('1,000 concurrent appends share a few produce requests and each gets its own offsets', async () => {
    const { logger, lines } = capturingLogger();
    const transport = harness.open({ logger });
    const topic = harness.topic('batching');
    await transport.ensureTopics([{ name: topic, partitions: 4 }]);
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) =>
        transport.append([
          { topic, partition: i % 4, records: [outgoing(`k${i}`, `a${i}`)] },
          // Every tenth append also writes two records to another partition: several writes per call.
          ...(i % 10 === 0
            ? [
                {
                  topic,
                  partition: (i + 1) % 4,
                  records: [outgoing(`k${i}`, `b${i}`), outgoing(`k${i}`, `c${i}`)],
                },
              ]
            : []),
        ]),
      ),
    );
    const elapsed = performance.now() - started;
    const requests = lines().filter((l) => l.msg === 'kafka transport: produce request acknowledged');
    expect(requests.reduce((sum, l) => sum + (l.records ?? 0), 0)).toBe(1_200);
    expect(requests.length).toBeLessThan(50);
    const partitions = await Promise.all([0, 1, 2, 3].map((p) => readAll(transport, topic, p)));
    for (const stored of partitions)
      expect(stored.map((r) => r.offset)).toEqual(stored.map((_, i) => BigInt(i)));
    results.forEach((offsets, i) => {
      expect(text(partitions[i % 4]![Number(offsets[0]![0])]!)).toBe(`a${i}`);
      if (i % 10 === 0) {
        const other = partitions[(i + 1) % 4]!;
        expect(offsets[1]).toHaveLength(2);
        expect(text(other[Number(offsets[1]![0])]!)).toBe(`b${i}`);
        expect(offsets[1]![1]).toBe(offsets[1]![0]! + 1n);
        expect(text(other[Number(offsets[1]![1])]!)).toBe(`c${i}`);
      } else {
        expect(offsets).toHaveLength(1);
      }
    });
    logger.info({ requests: requests.length, elapsedMs: Math.round(elapsed) }, 'batching figures');
  });

  it('an append larger than one request is split over several, in order', async () => {
    const transport = harness.open({ producer: { maxBatchRecords: 100, maxBatchBytes: 20_000 } });
    const topic = harness.topic('split');
    await transport.ensureTopics([{ name: topic, partitions: 1 }]);
    const value = (i: number) => `${i}`.padStart(500, '.');
    const [offsets] = await transport.append([
      { topic, partition: 0, records: Array.from({ length: 450 }, (_, i) => outgoing(null, value(i))) },
    ]);
    expect(offsets).toEqual(Array.from({ length: 450 }, (_, i) => BigInt(i)));
    expect((await readAll(transport, topic, 0)).map(text)).toEqual(
      Array.from({ length: 450 }, (_, i) => value(i)),
    );
  });

  it.each([
    ['gzip', 1],
    ['snappy', 2],
    ['lz4', 3],
    ['zstd', 4],
  ] as const)(
    'compression %s: batches are stored compressed and read back intact',
    async (codec, bitmask) => {
      const transport = harness.open({ producer: { compression: codec as KafkaCompression } });
      const topic = harness.topic(`compressed-${codec}`);
      await transport.ensureTopics([{ name: topic, partitions: 1 }]);
      const values = Array.from(
        { length: 50 },
        (_, i) => `{"patientId":"p-${i}","note":"${'x'.repeat(200)}"}`,
      );
      await transport.append([
        {
          topic,
          partition: 0,
          records: values.map((v, i) => outgoing(`p-${i}`, v, { headers: { ce_id: `${i}` } })),
        },
      ]);
      const stored = await transport.read(topic, 0, 0n, 100);
      expect(stored.map(text)).toEqual(values);
      expect(stored.map((r) => r.headers.ce_id)).toEqual(values.map((_, i) => `${i}`));
      expect(await batchCodecs(topic)).toEqual([bitmask]);
    },
  );

  it('refuses a topic compression it does not know, creating nothing', async () => {
    const transport = harness.open();
    const topic = harness.topic('compressed-brotli');
    await expect(
      transport.ensureTopics([{ name: topic, partitions: 1, compression: 'brotli' as 'gzip' }]),
    ).rejects.toThrow(
      `ensureTopics(${topic}): compression must be one of none, gzip, snappy, lz4, zstd, got brotli`,
    );
    expect(await transport.describeTopic(topic)).toBeUndefined();
    expect(() => defineTopic({ name: 'notes', compression: 'brotli' as 'gzip', events: [] })).toThrow(
      'defineTopic(notes): compression must be one of none, gzip, snappy, lz4, zstd, got brotli',
    );
  });

  it.each([
    ['gzip', 1],
    ['snappy', 2],
    ['lz4', 3],
    ['zstd', 4],
    ['none', 0],
  ] as const)(
    "topic compression %s: the brokers store the topic's batches with its codec, whatever the producer sends",
    async (codec, bitmask) => {
      const transport = harness.open({ producer: { compression: codec === 'none' ? 'gzip' : 'none' } });
      const topic = harness.topic(`topic-compressed-${codec}`);
      await transport.ensureTopics([{ name: topic, partitions: 1, compression: codec }]);
      expect(await transport.describeTopic(topic)).toMatchObject({ compression: codec });
      const values = Array.from(
        { length: 20 },
        (_, i) => `{"patientId":"p-${i}","note":"${'y'.repeat(300)}"}`,
      );
      await transport.append([{ topic, partition: 0, records: values.map((v, i) => outgoing(`p-${i}`, v)) }]);
      expect((await transport.read(topic, 0, 0n, 100)).map(text)).toEqual(values);
      expect(await batchCodecs(topic)).toEqual([bitmask]);
    },
  );
});

/** Compression bits of each record batch of partition 0, read with the client directly. */
async function batchCodecs(topic: string): Promise<number[]> {
  const client = new KafkaClientConsumer({
    clientId: 'keel-test-raw',
    bootstrapBrokers: testBrokers(),
    groupId: 'raw',
  });
  try {
    const metadata = await client.metadata({ topics: [topic] });
    const meta = metadata.topics.get(topic)!;
    const response = await client.fetch({
      node: meta.partitions[0]!.leader,
      topics: [
        {
          topicId: meta.id,
          partitions: [
            {
              partition: 0,
              fetchOffset: 0n,
              currentLeaderEpoch: -1,
              lastFetchedEpoch: -1,
              partitionMaxBytes: 1 << 20,
            },
          ],
        },
      ],
      maxWaitTime: 0,
    });
    return (response.responses[0]?.partitions[0]?.records ?? []).map((batch) => batch.attributes & 0b111);
  } finally {
    await client.close();
  }
}

describe('Kafka transport: connection security options reach the wire', () => {
  // No TLS or SASL listener here: a plaintext broker refusing the handshake proves the options were used.
  const flatten = (error: unknown): string => {
    const parts: string[] = [];
    const visit = (e: unknown, depth: number): void => {
      if (typeof e !== 'object' || e === null || depth > 10) return;
      parts.push(String((e as Error).message));
      for (const inner of (e as { errors?: unknown[] }).errors ?? []) visit(inner, depth + 1);
      visit((e as { cause?: unknown }).cause, depth + 1);
    };
    visit(error, 0);
    return parts.join(' | ');
  };

  it('tls makes every connection start a TLS handshake', async () => {
    const transport = harness.open({ tls: { rejectUnauthorized: false }, connectTimeoutMs: 2_000 });
    const error = await transport.listTopics().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'KEEL_KAFKA_OPERATION', operation: 'list topics' });
    expect(flatten(error)).toMatch(/TLS handshake failed/);
  });

  it('sasl makes every connection authenticate first', async () => {
    const transport = harness.open({
      sasl: { mechanism: 'SCRAM-SHA-512', username: 'keel', password: 'secret' },
      connectTimeoutMs: 2_000,
    });
    const error = await transport.listTopics().catch((e: unknown) => e);
    // The plaintext listener answers the SaslHandshake with ILLEGAL_SASL_STATE.
    expect(error).toMatchObject({ code: 'KEEL_KAFKA_OPERATION', kafkaErrors: ['ILLEGAL_SASL_STATE'] });
  });
});

describe('Kafka transport: group membership', () => {
  it('a member the coordinator expelled has its commits refused, then rejoins and resumes from the last commit', async () => {
    const transport = harness.open();
    const topic = harness.topic('expelled');
    const group = harness.group('expelled');
    await transport.ensureTopics([{ name: topic, partitions: 1 }]);
    await transport.append([
      { topic, partition: 0, records: [0, 1, 2, 3, 4].map((i) => outgoing('k', `v${i}`)) },
    ]);
    const c = member(transport, {
      group,
      topics: [topic],
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 1_000,
    });
    await pollUntil(c, 'the five records', (r) => r.length >= 5, 15_000);
    await c.commit([{ topic, partition: 0, offset: 2n }]);
    // Another process (an operator's tool) removes the member: it still believes it holds the partition.
    const admin = new Admin({ clientId: 'keel-test-admin', bootstrapBrokers: testBrokers() });
    try {
      await admin.removeMembersFromConsumerGroup({ groupId: group, members: [{ memberId: c.memberId }] });
    } finally {
      await admin.close();
    }
    expect(c.assignment()).toEqual([{ topic, partition: 0 }]);
    await expect(c.commit([{ topic, partition: 0, offset: 5n }])).rejects.toMatchObject({
      code: 'KEEL_TRANSPORT_NOT_ASSIGNED',
      group,
    });
    expect((await transport.groupLag(group, [topic]))[0]?.committed).toBe(2n);
    // Its next heartbeat learns it is out; it rejoins and reads on from the group's commit.
    const resumed = await pollUntil(c, 'the records after the commit', (r) => r.length >= 3, 15_000);
    expect(resumed.map((r) => r.offset)).toEqual([2n, 3n, 4n]);
  });

  it('a revoke callback longer than the session timeout keeps the member (heartbeats continue) and its commit lands', async () => {
    const transport = harness.open();
    const topic = harness.topic('slow-revoke');
    const group = harness.group('slow-revoke');
    await transport.ensureTopics([{ name: topic, partitions: 2 }]);
    const errors: unknown[] = [];
    let revoked = 0;
    const a: Consumer = member(transport, {
      group,
      topics: [topic],
      sessionTimeoutMs: 1_500,
      onPartitionsRevoked: async (partitions) => {
        await new Promise((resolve) => setTimeout(resolve, 3_000));
        await a.commit(partitions.map((p) => ({ ...p, offset: 1n }))).catch((e: unknown) => errors.push(e));
        revoked++;
      },
    });
    await transport.append([0, 1].map((partition) => ({ topic, partition, records: [outgoing('k', 'v')] })));
    await pollUntil(a, 'both records', (r) => r.length >= 2, 15_000);
    const b = member(harness.open(), { group, topics: [topic], sessionTimeoutMs: 1_500 });
    const deadline = Date.now() + 20_000;
    while (!(a.assignment().length === 1 && b.assignment().length === 1)) {
      if (Date.now() > deadline) throw new Error('the members did not share the partitions');
      await Promise.all([a.poll(50), b.poll(50)]);
    }
    expect(revoked).toBe(1);
    expect(errors).toEqual([]);
    expect((await transport.groupLag(group, [topic])).map((l) => l.committed)).toEqual([1n, 1n]);
  });
});

describe('Kafka transport: group administration', () => {
  it('groupLag reports, per partition, what was published minus what the group committed', async () => {
    const transport = harness.open();
    const topic = harness.topic('lag');
    const group = harness.group('lag');
    await transport.ensureTopics([{ name: topic, partitions: 3 }]);
    const published = [10, 7, 5];
    await transport.append(
      published.map((n, partition) => ({
        topic,
        partition,
        records: Array.from({ length: n }, (_, i) => outgoing(`k${i}`, `v${i}`)),
      })),
    );
    const c = member(transport, { group, topics: [topic] });
    await pollUntil(c, 'all 22 records', (r) => r.length >= 22, 15_000);
    const consumed = [4, 7, 0];
    await c.commit(
      consumed.flatMap((m, partition) => (m === 0 ? [] : [{ topic, partition, offset: BigInt(m) }])),
    );
    expect(await transport.groupLag(group, [topic])).toEqual([
      { topic, partition: 0, committed: 4n, latest: 10n, lag: 6n },
      { topic, partition: 1, committed: 7n, latest: 7n, lag: 0n },
      { topic, partition: 2, committed: null, latest: 5n, lag: 5n },
    ]);
  });

  it('resetGroupOffsets moves an empty group to earliest, latest, a time or an offset, and refuses a live one', async () => {
    const transport = harness.open();
    const topic = harness.topic('reset');
    const group = harness.group('reset');
    await transport.ensureTopics([{ name: topic, partitions: 2 }]);
    const t0 = Date.now() - 60_000;
    await transport.append(
      [0, 1].map((partition) => ({
        topic,
        partition,
        records: Array.from({ length: 10 }, (_, i) =>
          outgoing(`k${i}`, `v${i}`, { timestamp: t0 + i * 1_000 }),
        ),
      })),
    );
    const live = member(transport, { group, topics: [topic] });
    await pollUntil(live, 'the 20 records', (r) => r.length >= 20, 15_000);
    await live.commit([
      { topic, partition: 0, offset: 8n },
      { topic, partition: 1, offset: 9n },
    ]);
    await expect(transport.resetGroupOffsets(group, topic, 'earliest')).rejects.toMatchObject({
      code: 'KEEL_KAFKA_GROUP_NOT_EMPTY',
      group,
      members: 1,
    });
    await live.close();
    const committed = async () => (await transport.groupLag(group, [topic])).map((l) => l.committed);

    expect(await transport.resetGroupOffsets(group, topic, 'earliest')).toEqual([
      { topic, partition: 0, offset: 0n },
      { topic, partition: 1, offset: 0n },
    ]);
    expect(await committed()).toEqual([0n, 0n]);
    await transport.resetGroupOffsets(group, topic, 'latest');
    expect(await committed()).toEqual([10n, 10n]);
    // The first record at or after t0 + 5.5 s is the seventh (offset 6).
    await transport.resetGroupOffsets(group, topic, { timestamp: t0 + 5_500 });
    expect(await committed()).toEqual([6n, 6n]);
    await transport.resetGroupOffsets(group, topic, { timestamp: Date.now() + 60_000 });
    expect(await committed()).toEqual([10n, 10n]);
    await transport.resetGroupOffsets(group, topic, { offset: 1_000n });
    expect(await committed()).toEqual([10n, 10n]);
    await transport.resetGroupOffsets(group, topic, { offset: 3n }, [1]);
    expect(await committed()).toEqual([10n, 3n]);

    // The next member starts where the reset put the group.
    const next = member(transport, { group, topics: [topic] });
    const resumed = await pollUntil(next, 'the 7 records after offset 3', (r) => r.length >= 7, 15_000);
    expect(resumed.map((r) => [r.partition, r.offset])).toEqual(
      [3n, 4n, 5n, 6n, 7n, 8n, 9n].map((o) => [1, o]),
    );
  });
});

describe('Kafka transport: topology', () => {
  it('planTopics shows the diff, applyTopics makes it, and a second plan finds nothing to do', async () => {
    const transport = harness.open();
    const created = harness.topic('plan-new');
    const grown = harness.topic('plan-grow');
    const same = harness.topic('plan-same');
    await transport.ensureTopics([
      { name: grown, partitions: 2, retentionMs: 86_400_000 },
      { name: same, partitions: 1, compacted: true },
    ]);
    const definitions = [
      { name: created, partitions: 3, replication: 3, retentionMs: 3_600_000, compacted: true },
      { name: grown, partitions: 4, replication: 3, retentionBytes: 1_000_000, minInsyncReplicas: 3 },
      { name: same, partitions: 1, compacted: true },
    ];
    const plan = await transport.planTopics(definitions);
    expect(plan.refusals).toEqual([]);
    expect(plan.unchanged).toEqual([same]);
    expect(plan.changes).toEqual([
      { kind: 'create', topic: created, config: definitions[0] },
      { kind: 'add-partitions', topic: grown, from: 2, to: 4 },
      {
        kind: 'alter-configs',
        topic: grown,
        configs: [
          { name: 'retention.ms', from: '86400000', to: '-1' },
          { name: 'retention.bytes', from: '-1', to: '1000000' },
          { name: 'min.insync.replicas', from: '2', to: '3' },
        ],
      },
    ]);
    // Planning changed nothing.
    expect(await transport.describeTopic(created)).toBeUndefined();

    await transport.applyTopics(plan);
    expect(await transport.describeTopic(created)).toMatchObject({
      partitions: 3,
      replication: 3,
      retentionMs: 3_600_000,
      compacted: true,
    });
    // Config changes reach every broker a moment after the admin call returns: wait for them, bounded.
    let after = await transport.describeTopic(grown);
    for (
      let waited = 0;
      waited < 10_000 && (after?.minInsyncReplicas !== 3 || after?.retentionBytes !== 1_000_000);
      waited += 100
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await transport.describeTopic(grown);
    }
    expect(after).toMatchObject({ partitions: 4, retentionBytes: 1_000_000, minInsyncReplicas: 3 });
    expect(after?.retentionMs).toBeUndefined();
    // The new partitions take appends at once.
    expect(await transport.append([{ topic: grown, partition: 3, records: [outgoing('k', 'v')] }])).toEqual([
      [0n],
    ]);

    const again = await transport.planTopics(definitions);
    expect(again).toEqual({ changes: [], refusals: [], unchanged: [created, grown, same] });
    // Applying the old plan a second time is harmless.
    await transport.applyTopics(plan);
    expect((await transport.describeTopic(grown))?.partitions).toBe(4);
  });

  it('a definition with fewer partitions or another replication is refused and nothing of the plan is applied', async () => {
    const transport = harness.open();
    const shrunk = harness.topic('shrink');
    const other = harness.topic('other');
    await transport.ensureTopics([{ name: shrunk, partitions: 4 }]);
    const plan = await transport.planTopics([
      { name: shrunk, partitions: 2, replication: 2 },
      { name: other, partitions: 1 },
    ]);
    expect(plan.refusals).toEqual([
      {
        topic: shrunk,
        reason: 'fewer-partitions',
        message: `topic "${shrunk}" has 4 partitions and its definition asks for 2: Kafka cannot remove partitions (raise the definition to 4, or create a new topic and move the consumers)`,
      },
      {
        topic: shrunk,
        reason: 'replication-change',
        message: expect.stringContaining(`topic "${shrunk}" has replication 3 and its definition asks for 2`),
      },
    ]);
    await expect(transport.applyTopics(plan)).rejects.toMatchObject({
      code: 'KEEL_KAFKA_TOPIC_CHANGE_REFUSED',
      message: expect.stringMatching(/^refused, nothing changed: topic ".*" has 4 partitions/),
    });
    expect(await transport.describeTopic(other)).toBeUndefined();
    expect((await transport.describeTopic(shrunk))?.partitions).toBe(4);
  });
});
