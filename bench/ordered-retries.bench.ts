import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createPublisher } from '../src/bus/publisher.ts';
import { createRouter } from '../src/bus/router.ts';
import { type Catalog, createCatalog } from '../src/events/catalog.ts';
import { defineTopic } from '../src/events/define-topic.ts';
import { createEmbeddedTransport } from '../src/transport/embedded/index.ts';
import { createKafkaTransport } from '../src/transport/kafka/index.ts';
import type { Transport } from '../src/transport/transport.ts';
import { BenchEvent, PAD } from './bench-catalog.ts';
import { benchBrokers } from './kafka.bench.ts';
import { type BenchResult, percentile } from './stats.ts';

const silent = pino({ level: 'silent' });
const KEYS = 1_000;
/** 1 % of the keys fail: every event of theirs fails its first delivery and succeeds on the delayed retry. */
const failing = (key: string) => Number(key.slice(1)) % 100 === 0;
const PRELOADED = 20_000;
const RATE = 3_000;
const SECONDS = 4;
const ROUNDS = 4;

type Ordering = 'key' | 'none';

/** A fresh topic on a fresh (or shared) transport, with its catalog, and how to be rid of them. */
interface Opened {
  transport: Transport;
  catalog: Catalog;
  close(): Promise<void>;
}

/** Where the benchmark runs: a new embedded log per run, or new topics on the Kafka cluster. */
type Target = { name: 'embedded' } | { name: 'kafka'; brokers: string[] };

let opened = 0;

/** Opens a transport with a topic of its own (12 partitions) for one measurement. */
async function open(target: Target): Promise<Opened> {
  const name = `bench-ordered-${process.pid}-${Date.now()}-${opened++}`;
  const topic = defineTopic({ name, partitions: 12, events: [BenchEvent] });
  const catalog = createCatalog({ topics: [topic] });
  if (target.name === 'kafka') {
    const transport = createKafkaTransport({
      brokers: target.brokers,
      clientId: 'keel-bench',
      logger: silent,
    });
    await transport.ensureTopics([topic]);
    const close = async () => {
      // The router's group made retry and dead-letter topics named after it: every topic of this run goes.
      const doomed = (await transport.listTopics()).filter((t) => t.includes(name));
      await transport.deleteTopics([name, ...doomed]).catch(() => undefined);
      await transport.close();
    };
    return { transport, catalog, close };
  }
  const dir = mkdtempSync(join(tmpdir(), 'keel-bench-ordered-'));
  const transport = createEmbeddedTransport({ path: join(dir, 'keel.db'), logger: silent });
  await transport.ensureTopics([topic]);
  const close = async () => {
    await transport.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { transport, catalog, close };
}

/** A router on `group` whose failing keys fail once per event; counts and times the other keys' events. */
async function startRouter(
  { transport, catalog }: Opened,
  group: string,
  ordering: Ordering,
  onHealthy: (sentAt: number) => void,
) {
  const router = createRouter({
    transport,
    catalog,
    group,
    logger: silent,
    shutdownSignals: [],
    retry: false,
    delayedRetries: [100, 1_000],
    circuitBreaker: false,
  });
  router.on(
    BenchEvent,
    (event, context) => {
      const { key, sentAt } = event.data!;
      if (failing(key)) {
        if (context.delivery === 1) throw new Error('downstream hiccup');
        return;
      }
      onHealthy(sentAt);
    },
    { ordering },
  );
  await router.start();
  return router;
}

/** Events per second of never-failing keys, through a backlog of stored events. */
async function throughput(opened: Opened, group: string, ordering: Ordering): Promise<number> {
  const healthy = Array.from({ length: PRELOADED }, (_, seq) => `k${seq % KEYS}`).filter((k) => !failing(k));
  let seen = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const started = performance.now();
  const router = await startRouter(opened, group, ordering, () => {
    if (++seen === healthy.length) done();
  });
  await finished;
  const perSecond = healthy.length / ((performance.now() - started) / 1000);
  await router.close();
  return perSecond;
}

/**
 * p99 publish-to-handler latency (ms) of never-failing keys at a steady rate, on a topic of its own with no
 * backlog, publisher and router in one process; the first second warms up and is not counted.
 */
async function latency(target: Target, ordering: Ordering): Promise<number> {
  const opened = await open(target);
  const latencies: number[] = [];
  let counting = false;
  const router = await startRouter(opened, `bench-latency-${ordering}`, ordering, (sentAt) => {
    if (counting && sentAt > 0) latencies.push(performance.now() - sentAt);
  });
  const publisher = createPublisher({
    transport: opened.transport,
    catalog: opened.catalog,
    source: 'urn:keel:bench',
  });
  const total = RATE * (SECONDS + 1);
  const started = performance.now();
  const inFlight = new Set<Promise<unknown>>();
  let sent = 0;
  while (sent < total) {
    counting = performance.now() - started > 1_000;
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * RATE));
    while (sent < due) {
      const seq = sent++;
      const published = publisher.publish(BenchEvent, {
        key: `k${seq % KEYS}`,
        seq,
        sentAt: counting ? performance.now() : 0,
        pad: PAD,
      });
      inFlight.add(published);
      void published.finally(() => inFlight.delete(published));
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inFlight);
  await new Promise((resolve) => setTimeout(resolve, 500));
  await router.close();
  await opened.close();
  return percentile(latencies, 99);
}

/**
 * Ordered (`ordering: 'key'`, the default) against unordered (`'none'`) retries, with 1 % of the keys failing
 * each event's first delivery: throughput through a backlog and p99 latency at a steady rate of the keys that
 * never fail, alternating the two in the same run.
 */
export async function orderedRetries(on: 'embedded' | 'kafka' = 'embedded'): Promise<BenchResult[]> {
  let target: Target = { name: 'embedded' };
  if (on === 'kafka') {
    const brokers = await benchBrokers();
    if (!brokers) {
      process.stderr.write(
        'ordered-retries-kafka: no Kafka cluster (npm run kafka:up or KEEL_KAFKA_BROKERS)\n',
      );
      return [];
    }
    target = { name: 'kafka', brokers };
  }
  const runs: Record<Ordering, { perSecond: number[]; p99: number[] }> = {
    key: { perSecond: [], p99: [] },
    none: { perSecond: [], p99: [] },
  };
  for (let round = 0; round < ROUNDS; round++) {
    for (const ordering of (round % 2 === 0 ? ['key', 'none'] : ['none', 'key']) as Ordering[]) {
      const opened = await open(target);
      const publisher = createPublisher({
        transport: opened.transport,
        catalog: opened.catalog,
        source: 'urn:keel:bench',
      });
      for (let from = 0; from < PRELOADED; from += 1000) {
        await publisher.publishMany(
          BenchEvent,
          Array.from({ length: 1000 }, (_, i) => ({
            key: `k${(from + i) % KEYS}`,
            seq: from + i,
            sentAt: 0,
            pad: PAD,
          })),
        );
      }
      runs[ordering].perSecond.push(await throughput(opened, `bench-${ordering}`, ordering));
      await opened.close();
      runs[ordering].p99.push(await latency(target, ordering));
    }
  }
  const median = (values: number[]) => percentile(values, 50);
  const round1 = (value: number) => Math.round(value * 10) / 10;
  const keyRate = median(runs.key.perSecond);
  const noneRate = median(runs.none.perSecond);
  const keyP99 = median(runs.key.p99);
  const noneP99 = median(runs.none.p99);
  const setting = `${KEYS} keys, 1 % failing every event's first delivery (retried after 100 ms), no immediate retries; median of ${ROUNDS} alternating runs each, ${on === 'kafka' ? 'Kafka (3 brokers, a move is a transaction carrying the offsets)' : 'embedded transport (synchronous=full)'}`;
  return [
    {
      name: `ordered retries (${on}): never-failing keys through a backlog, ordering none`,
      value: Math.round(noneRate),
      unit: 'events/s',
      note: setting,
    },
    {
      name: `ordered retries (${on}): never-failing keys through a backlog, ordering key`,
      value: Math.round(keyRate),
      unit: 'events/s',
    },
    {
      name: `ordered retries (${on}): throughput cost of ordering key vs none`,
      value: round1((1 - keyRate / noneRate) * 100),
      unit: '%',
      target: 10,
      better: 'lower',
    },
    {
      name: `ordered retries (${on}): p99 latency of never-failing keys at ${RATE}/s, ordering none`,
      value: round1(noneP99),
      unit: 'ms',
    },
    {
      name: `ordered retries (${on}): p99 latency of never-failing keys at ${RATE}/s, ordering key`,
      value: round1(keyP99),
      unit: 'ms',
    },
    {
      name: `ordered retries (${on}): p99 latency cost of ordering key vs none`,
      value: round1((keyP99 / noneP99 - 1) * 100),
      unit: '%',
      target: 10,
      better: 'lower',
      note: `p99 per run: key ${runs.key.p99.map(round1).join(', ')} ms; none ${runs.none.p99.map(round1).join(', ')} ms`,
    },
  ];
}
