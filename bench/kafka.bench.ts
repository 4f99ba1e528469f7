// Kafka transport benchmarks on the 3-broker cluster: Keel's publisher beside the same client used raw
// and Kafka's own perf tool, consume-and-handle throughput, end-to-end latency at a steady rate.
import { spawnSync } from 'node:child_process';
import { Admin, Producer, type ProducerOptions } from '@platformatic/kafka';
import { pino } from 'pino';
import { BOOTSTRAP_SERVERS, clusterHealth, javaBin, kafkaJavaArgs } from '../scripts/kafka.mjs';
import { createPublisher } from '../src/bus/publisher.ts';
import { createRouter } from '../src/bus/router.ts';
import { createCatalog } from '../src/events/catalog.ts';
import { createEvent } from '../src/events/create-event.ts';
import { defineTopic } from '../src/events/define-topic.ts';
import { toRecord } from '../src/events/kafka-binding.ts';
import { createKafkaTransport, type KafkaTransport } from '../src/transport/kafka/index.ts';
import { BenchEvent, PAD } from './bench-catalog.ts';
import { type BenchResult, percentile } from './stats.ts';

const silent = pino({ level: 'silent' });
const PARTITIONS = 12;
const PUBLISHED = 200_000;
const BATCH = 1_000;
/** Batches in flight at once: enough that the adapter's queue always has the next send ready. */
const BATCHES_IN_FLIGHT = 8;
const sample = (seq: number) => ({ key: `k${seq % 1000}`, seq, sentAt: performance.now(), pad: PAD });

/** The cluster to measure: KEEL_KAFKA_BROKERS, else the local one if it answers; undefined when neither. */
export async function benchBrokers(): Promise<string[] | undefined> {
  const named = process.env.KEEL_KAFKA_BROKERS?.trim();
  if (named) return named.split(',').map((b) => b.trim());
  const health = await clusterHealth().catch(() => undefined);
  return health?.healthy ? BOOTSTRAP_SERVERS.split(',') : undefined;
}

function topicCatalog(name: string) {
  const topic = defineTopic({ name, partitions: PARTITIONS, events: [BenchEvent] });
  return { topic, catalog: createCatalog({ topics: [topic] }) };
}

/** Keel's Publisher: `publishMany` batches of 1,000, 8 in flight, validated and enveloped. */
async function keelPublish(transport: KafkaTransport, name: string): Promise<number> {
  const { topic, catalog } = topicCatalog(name);
  await transport.ensureTopics([topic]);
  const publisher = createPublisher({ transport, catalog, source: 'urn:keel:bench', logger: silent });
  const batch = (from: number) => Array.from({ length: BATCH }, (_, i) => sample(from + i));
  await publisher.publishMany(BenchEvent, batch(0));
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: BATCHES_IN_FLIGHT }, async () => {
      while (next < PUBLISHED) {
        const from = next;
        next += BATCH;
        await publisher.publishMany(BenchEvent, batch(from));
      }
    }),
  );
  const perSecond = PUBLISHED / ((performance.now() - started) / 1000);
  await publisher.close();
  return perSecond;
}

/**
 * The same client without Keel, with the adapter's settings (idempotent, acks=all, no compression) and
 * its batching (one send in flight, ~2,000 records of ~500 B per send, under 1 MB): the same record
 * bytes (Keel's ce_ headers and data, encoded once beforehand), round-robin over partitions.
 */
async function rawPublish(brokers: string[], name: string, transport: KafkaTransport): Promise<number> {
  await transport.ensureTopics([{ name, partitions: PARTITIONS }]);
  const record = toRecord(createEvent(BenchEvent, sample(0), { source: 'urn:keel:bench' }));
  const options: ProducerOptions<Buffer, Buffer, Buffer, Buffer> = {
    clientId: 'keel-bench-raw',
    bootstrapBrokers: brokers,
    idempotent: true,
    acks: -1,
    compression: 'none',
  };
  const producer = new Producer(options);
  const perSend = 2_000;
  const messages = (from: number) =>
    Array.from({ length: perSend }, (_, i) => {
      const headers = new Map<Buffer, Buffer>();
      for (const [k, v] of Object.entries(record.headers)) headers.set(Buffer.from(k), Buffer.from(v));
      return {
        topic: name,
        partition: (from + i) % PARTITIONS,
        key: Buffer.from(record.key ?? ''),
        value: Buffer.from(record.value!),
        headers,
        timestamp: BigInt(Date.now()),
      };
    });
  await producer.send({ messages: messages(0) });
  const started = performance.now();
  for (let from = 0; from < PUBLISHED; from += perSend) await producer.send({ messages: messages(from) });
  const perSecond = PUBLISHED / ((performance.now() - started) / 1000);
  await producer.close();
  return perSecond;
}

/** Kafka's own ProducerPerformance (the jars the cluster runs): records/s from its summary line. */
function perfTool(brokers: string[], name: string, records: number): { perSecond: number; line: string } {
  const args = kafkaJavaArgs('org.apache.kafka.tools.ProducerPerformance', [
    '--topic',
    name,
    '--num-records',
    String(records),
    '--record-size',
    '500',
    '--throughput',
    '-1',
    '--command-property',
    `bootstrap.servers=${brokers.join(',')}`,
    'acks=all',
    'enable.idempotence=true',
    'compression.type=none',
  ]);
  const run = spawnSync(javaBin(), args, { encoding: 'utf8', timeout: 180_000 });
  const line = run.stdout.trim().split('\n').at(-1) ?? '';
  const match = /records sent, ([\d.]+) records\/sec/.exec(line);
  if (!match)
    throw new Error(`ProducerPerformance: no summary (exit ${run.status}): ${run.stderr.slice(-500)}`);
  return { perSecond: Number(match[1]), line };
}

/** A Router in a new group reading the topic from the start: events/s from the first handled to the last. */
async function consumeAndHandle(transport: KafkaTransport, name: string, expected: number): Promise<number> {
  const { catalog } = topicCatalog(name);
  const router = createRouter({
    transport,
    catalog,
    group: `${name}-consume`,
    logger: silent,
    shutdownSignals: [],
  });
  let handled = 0;
  let first = 0;
  let last = 0;
  router.on(BenchEvent, () => {
    if (handled === 0) first = performance.now();
    handled++;
    last = performance.now();
  });
  await router.start();
  const deadline = performance.now() + 120_000;
  while (handled < expected && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await router.close();
  if (handled < expected) throw new Error(`consume: ${handled}/${expected} handled in 120 s`);
  return handled / ((last - first) / 1000);
}

/** Publish-call-to-handler latency at a steady rate, publisher and router in one process. */
async function endToEnd(transport: KafkaTransport, name: string, rate: number, seconds: number) {
  const { topic, catalog } = topicCatalog(name);
  await transport.ensureTopics([topic]);
  const publisher = createPublisher({ transport, catalog, source: 'urn:keel:bench', logger: silent });
  const latencies: number[] = [];
  const warmup = rate;
  const router = createRouter({
    transport,
    catalog,
    group: `${name}-e2e`,
    logger: silent,
    shutdownSignals: [],
  });
  router.on(BenchEvent, (event) => {
    if (event.data!.seq >= warmup) latencies.push(performance.now() - event.data!.sentAt);
  });
  await router.start();
  const total = rate * (seconds + 1);
  const started = performance.now();
  let sent = 0;
  const inFlight = new Set<Promise<unknown>>();
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
    while (sent < due) {
      const p = publisher.publish(BenchEvent, sample(sent++));
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inFlight);
  const deadline = performance.now() + 15_000;
  while (latencies.length < total - warmup && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await router.close();
  await publisher.close();
  return { latencies, expected: total - warmup };
}

const round = (n: number) => Math.round(n * 1000) / 1000;

/** Every Kafka benchmark, side by side in one run; [] with a note on stderr when no cluster answers. */
export async function kafkaBenchmarks(): Promise<BenchResult[]> {
  const brokers = await benchBrokers();
  if (!brokers) {
    process.stderr.write(
      'kafka: skipped (KEEL_KAFKA_BROKERS is not set and the local cluster does not answer; npm run kafka:up)\n',
    );
    return [];
  }
  const transport = createKafkaTransport({ brokers, clientId: 'keel-bench', logger: silent });
  const run = `bench-kafka-${Date.now().toString(36)}`;
  const names = { keel: `${run}-keel`, raw: `${run}-raw`, perf: `${run}-perf`, e2e: `${run}-e2e` };
  const lowTopic = `${names.e2e}-low`;
  try {
    const keel = await keelPublish(transport, names.keel);
    const raw = await rawPublish(brokers, names.raw, transport);
    await transport.ensureTopics([{ name: names.perf, partitions: PARTITIONS }]);
    const perf = perfTool(brokers, names.perf, 500_000);
    const consumed = await consumeAndHandle(transport, names.keel, PUBLISHED + BATCH);
    const rate = 10_000;
    const e2e = await endToEnd(transport, names.e2e, rate, 5);
    // The same at a rate this box sustains beside the brokers, to tell the transport's latency from a backlog.
    const lowRate = 1_000;
    const low = await endToEnd(transport, lowTopic, lowRate, 5);
    const setting = `${PARTITIONS} partitions, RF 3, min ISR 2, acks=all, idempotent, no compression, ~500 B events`;
    const e2eNote = `${rate} events/s for 5 s after 1 s warm-up, ${e2e.latencies.length}/${e2e.expected} received, publisher and router in one process, ${setting}`;
    return [
      {
        name: 'kafka: Keel publish (publishMany 1,000 × 8 in flight)',
        value: Math.round(keel),
        unit: 'events/s',
        better: 'higher',
        note: `${PUBLISHED} events, ${setting}; ${(keel / raw).toFixed(2)}× the raw client, ${(keel / perf.perSecond).toFixed(2)}× ProducerPerformance`,
      },
      {
        name: 'kafka: raw @platformatic/kafka, same settings',
        value: Math.round(raw),
        unit: 'events/s',
        note: `${PUBLISHED} records of Keel's bytes, 2,000 per send, one send in flight (as the adapter)`,
      },
      {
        name: 'kafka: Keel overhead vs raw client',
        value: round((1 - keel / raw) * 100),
        unit: '%',
        target: 10,
        better: 'lower',
      },
      {
        name: 'kafka: ProducerPerformance (Java, ceiling)',
        value: Math.round(perf.perSecond),
        unit: 'events/s',
        note: `500,000 records of 500 B, acks=all, idempotent, Java client defaults (linger 5 ms, 16 KB batches): ${perf.line}`,
      },
      {
        name: 'kafka: consume and handle through a Router',
        value: Math.round(consumed),
        unit: 'events/s',
        target: 100_000,
        better: 'higher',
        note: `${PUBLISHED + BATCH} events from the start of the topic, new group, concurrency 64, first to last handled`,
      },
      {
        name: `kafka: end-to-end p50 / p99 at ${lowRate}/s`,
        value: round(percentile(low.latencies, 50)),
        unit: 'ms',
        note: `p99 ${round(percentile(low.latencies, 99))} ms; ${lowRate} events/s for 5 s after 1 s warm-up, ${low.latencies.length}/${low.expected} received`,
      },
      {
        name: `kafka: end-to-end p50 at ${rate}/s`,
        value: round(percentile(e2e.latencies, 50)),
        unit: 'ms',
        note: e2eNote,
      },
      {
        name: `kafka: end-to-end p99 at ${rate}/s`,
        value: round(percentile(e2e.latencies, 99)),
        unit: 'ms',
        target: 10,
        better: 'lower',
        note: e2eNote,
      },
    ];
  } finally {
    // The routers' groups made retry and dead-letter topics named after them: every topic of this run goes.
    const admin = new Admin({ clientId: 'keel-bench-cleanup', bootstrapBrokers: brokers });
    const doomed = (await admin.listTopics().catch(() => [] as string[])).filter((t) => t.startsWith(run));
    await transport
      .deleteTopics([...new Set([...doomed, ...Object.values(names), lowTopic])])
      .catch(() => undefined);
    await admin.close();
    await transport.close();
  }
}
