import { randomUUID } from 'node:crypto';
import { Kafka } from 'cloudevents';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createPublisher } from '../../src/bus/publisher.ts';
import { createRouter } from '../../src/bus/router.ts';
import { CounterIncremented } from '../../src/bus/test-support/counter-catalog.ts';
import { createCatalog } from '../../src/events/catalog.ts';
import { defineTopic } from '../../src/events/define-topic.ts';
import { kafkaTestHarness, testBrokers } from '../../src/transport/kafka/test-support/kafka-test-cluster.ts';
import { kcat } from './support/kcat.ts';

const silent = pino({ level: 'silent' });

/** One message as `kcat -J` prints it: headers as a flat [name, value, name, value...] list. */
interface KcatJsonMessage {
  partition: number;
  offset: number;
  key: string | null;
  payload: string | null;
  headers?: string[];
}

const until = async (condition: () => boolean, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe('interop with tools Keel did not write (kcat, the cloudevents SDK)', () => {
  const harness = kafkaTestHarness('interop');
  const brokers = testBrokers().join(',');
  afterAll(() => harness.cleanup());

  const catalogOn = (name: string) => {
    const topic = defineTopic({ name, partitions: 3, events: [CounterIncremented] });
    return { topic, catalog: createCatalog({ topics: [topic] }) };
  };

  it('kcat reads the ce_ headers of events Keel published, and the cloudevents SDK decodes them', async () => {
    const transport = harness.open();
    const { topic, catalog } = catalogOn(harness.topic('out'));
    await transport.ensureTopics([topic]);
    const publisher = createPublisher({ transport, catalog, source: 'urn:keel:interop', logger: silent });
    const receipts = [];
    for (let seq = 0; seq < 6; seq++) {
      receipts.push(
        await publisher.publish(CounterIncremented, { key: `k${seq % 2}`, seq }, { subject: `s${seq}` }),
      );
    }

    // The format of the issue: key, headers, payload size.
    const lines = kcat(['-C', '-b', brokers, '-t', topic.name, '-f', '%k %h %s\n', '-e', '-o', 'beginning'])
      .stdout.trim()
      .split('\n');
    expect(lines).toHaveLength(6);
    for (const line of lines) {
      expect(line).toMatch(/^k[01] /);
      for (const header of [
        'ce_specversion=1.0',
        'ce_type=test.counter.incremented',
        'ce_source=urn:keel:interop',
      ])
        expect(line).toContain(header);
      expect(line).toMatch(/ce_id=[^,]+/);
      expect(line).toContain('content-type=application/json');
    }

    // The same records as JSON, handed to the official SDK's Kafka binding.
    const messages = kcat(['-C', '-b', brokers, '-t', topic.name, '-J', '-e', '-o', 'beginning'])
      .stdout.trim()
      .split('\n')
      .map((line) => JSON.parse(line) as KcatJsonMessage);
    const decoded = messages.map((message) => {
      const headers: Record<string, string> = {};
      const flat = message.headers ?? [];
      for (let i = 0; i < flat.length; i += 2) headers[flat[i]!] = flat[i + 1]!;
      // The SDK's Kafka message: its binding reads `key` and `value` (the shared `Message` type declares neither).
      const kafkaMessage = { key: message.key ?? '', value: message.payload, body: message.payload, headers };
      return Kafka.toEvent(kafkaMessage);
    });
    const events = decoded
      .flat()
      .sort((a, b) => (a.data as { seq: number }).seq - (b.data as { seq: number }).seq);
    expect(events.map((e) => e.id)).toEqual(receipts.map((r) => r.id));
    events.forEach((event, seq) => {
      expect(event.specversion).toBe('1.0');
      expect(event.type).toBe('test.counter.incremented');
      expect(event.source).toBe('urn:keel:interop');
      expect(event.subject).toBe(`s${seq}`);
      expect(event.datacontenttype).toBe('application/json');
      expect(event.data).toEqual({ key: `k${seq % 2}`, seq });
      expect(event.partitionkey).toBe(`k${seq % 2}`);
    });
  });

  it('a Router consumes events kcat produced with ce_ headers', async () => {
    const transport = harness.open();
    const { topic, catalog } = catalogOn(harness.topic('in'));
    await transport.ensureTopics([topic]);
    const ids = Array.from({ length: 5 }, () => randomUUID());
    // kcat takes one message per line, the key before the first ':' (-K:); headers apply to every message.
    const input = ids.map((_, seq) => `kc:${JSON.stringify({ key: 'kc', seq })}`).join('\n');
    for (const [seq, id] of ids.entries()) {
      kcat(
        [
          '-P',
          '-b',
          brokers,
          '-t',
          topic.name,
          '-K:',
          '-H',
          'ce_specversion=1.0',
          '-H',
          `ce_id=${id}`,
          '-H',
          'ce_type=test.counter.incremented',
          '-H',
          'ce_source=urn:kcat',
          '-H',
          'ce_time=2026-01-02T03:04:05Z',
          '-H',
          'ce_partitionkey=kc',
          '-H',
          'content-type=application/json',
        ],
        `${input.split('\n')[seq]}\n`,
      );
    }
    const handled: Array<{ id: string; source: string; seq: number; time?: string }> = [];
    const router = createRouter({
      transport,
      catalog,
      group: harness.group('in'),
      logger: silent,
      shutdownSignals: [],
      sessionTimeoutMs: 6_000,
      circuitBreaker: false,
    });
    router.on(CounterIncremented, (event) => {
      handled.push({ id: event.id, source: event.source, seq: event.data!.seq, time: event.time });
    });
    await router.start();
    try {
      await until(() => handled.length === ids.length);
    } finally {
      await router.close(5_000);
    }
    expect(handled).toEqual(
      ids.map((id, seq) => ({ id, source: 'urn:kcat', seq, time: '2026-01-02T03:04:05Z' })),
    );
  });
});
