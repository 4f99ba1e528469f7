// Transactional publishing on Kafka: `publisher.transaction` (three events over three partitions, one Kafka
// transaction per group of concurrent transactions) beside `publishMany` of the same three events without a
// transaction, in one run on the 3-broker cluster.
import { pino } from 'pino';
import { createPublisher } from '../src/bus/publisher.ts';
import { createCatalog } from '../src/events/catalog.ts';
import { defineTopic } from '../src/events/define-topic.ts';
import { createKafkaTransport, type KafkaTransport } from '../src/transport/kafka/index.ts';
import { BenchEvent, PAD } from './bench-catalog.ts';
import { benchBrokers } from './kafka.bench.ts';
import { type BenchResult, percentile } from './stats.ts';

const silent = pino({ level: 'silent' });
const PARTITIONS = 12;
const EVENTS_PER_PUBLISH = 3;

const events = (n: number) =>
  Array.from({ length: EVENTS_PER_PUBLISH }, (_, i) => ({
    key: `order-${n}-${i}`,
    seq: n * EVENTS_PER_PUBLISH + i,
    sentAt: performance.now(),
    pad: PAD,
  }));

/** `total` publishes of three events by `inFlight` concurrent callers: publishes per second and latencies (ms). */
async function measure(
  transport: KafkaTransport,
  topicName: string,
  mode: 'transaction' | 'publishMany',
  inFlight: number,
  total: number,
): Promise<{ perSecond: number; latencies: number[] }> {
  const topic = defineTopic({ name: topicName, partitions: PARTITIONS, events: [BenchEvent] });
  await transport.ensureTopics([topic]);
  const publisher = createPublisher({
    transport,
    catalog: createCatalog({ topics: [topic] }),
    source: 'urn:keel:bench',
    logger: silent,
  });
  const once = (n: number) =>
    mode === 'transaction'
      ? publisher.transaction((tx) => {
          tx.publishMany(BenchEvent, events(n));
        })
      : publisher.publishMany(BenchEvent, events(n));
  // Warm-up: connections, metadata, the transactional producer's InitProducerId.
  await Promise.all(Array.from({ length: Math.min(inFlight, 8) }, (_, i) => once(-1 - i)));
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < total) {
        const n = next++;
        const t0 = performance.now();
        await once(n);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const perSecond = total / ((performance.now() - started) / 1000);
  await publisher.close();
  return { perSecond, latencies };
}

/** The transactional publishing benchmarks; empty when no cluster answers. */
export async function kafkaTransactionBenchmarks(): Promise<BenchResult[]> {
  const brokers = await benchBrokers();
  if (!brokers) {
    process.stderr.write('kafka-transactions: skipped (no Kafka cluster answers; npm run kafka:up)\n');
    return [];
  }
  const transport = createKafkaTransport({ brokers, clientId: 'keel-bench-tx', logger: silent });
  const run = `bench-tx-${Date.now().toString(36)}`;
  const topics = [`${run}-tx`, `${run}-plain`, `${run}-tx-one`];
  try {
    const plain = await measure(transport, topics[1]!, 'publishMany', 64, 6_000);
    const tx = await measure(transport, topics[0]!, 'transaction', 64, 6_000);
    const one = await measure(transport, topics[2]!, 'transaction', 1, 300);
    const setting = `${EVENTS_PER_PUBLISH} ~500 B events over 3 partitions each, ${PARTITIONS} partitions, RF 3, min ISR 2`;
    const ms = (values: number[], p: number) => Math.round(percentile(values, p) * 10) / 10;
    return [
      {
        name: 'kafka: transactions, 64 in flight',
        value: Math.round(tx.perSecond),
        unit: 'transactions/s',
        note: `${setting}; p50 ${ms(tx.latencies, 50)} ms, p99 ${ms(tx.latencies, 99)} ms; ${(tx.perSecond / plain.perSecond).toFixed(2)}× the same publishes without a transaction`,
      },
      {
        name: 'kafka: publishMany of the same 3 events, 64 in flight, no transaction',
        value: Math.round(plain.perSecond),
        unit: 'publishes/s',
        note: `p50 ${ms(plain.latencies, 50)} ms, p99 ${ms(plain.latencies, 99)} ms`,
      },
      {
        name: 'kafka: one transaction at a time, p99',
        value: ms(one.latencies, 99),
        unit: 'ms',
        better: 'lower',
        note: `p50 ${ms(one.latencies, 50)} ms, ${Math.round(one.perSecond)} transactions/s`,
      },
    ];
  } finally {
    await transport.deleteTopics(topics).catch(() => undefined);
    await transport.close();
  }
}
