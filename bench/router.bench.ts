import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pino } from 'pino';
import { circuitBreaker } from '../src/bus/middleware/circuit-breaker.ts';
import { correlation } from '../src/bus/middleware/correlation.ts';
import { metrics as metricsMiddleware } from '../src/bus/middleware/metrics.ts';
import { compose, type HandlerFunction, type Middleware } from '../src/bus/middleware/middleware.ts';
import { retry } from '../src/bus/middleware/retry.ts';
import { tracing } from '../src/bus/middleware/tracing.ts';
import { validation } from '../src/bus/middleware/validation.ts';
import { createPublisher } from '../src/bus/publisher.ts';
import { createRouter } from '../src/bus/router.ts';
import type { RouterOptions } from '../src/bus/router-port.ts';
import { createEvent } from '../src/events/create-event.ts';
import { fromRecord, toRecord } from '../src/events/kafka-binding.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import { createEmbeddedTransport } from '../src/transport/embedded/index.ts';
import type { Transport } from '../src/transport/transport.ts';
import { BenchEvent, BenchTopic, benchCatalog, PAD } from './bench-catalog.ts';
import { type BenchResult, percentile } from './stats.ts';

const silent = pino({ level: 'silent' });
const TOTAL = 30_000;
/** Pairs of runs (bare, full) compared: 11 in each order, so each order's median is one pair's. */
const PAIRS = 22;

const collectGarbage = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

/** Lets timers of the previous run fire, then collects garbage, so each run starts from the same heap. */
async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 50));
  collectGarbage();
}

/** Events per second a raw group consumer (poll, decode, handler, commit) gets through, no router. */
async function rawConsumer(transport: Transport): Promise<number> {
  const consumer = transport.consumer({ group: 'bench-raw', topics: [BenchTopic.name], maxRecords: 1000 });
  let seen = 0;
  const started = performance.now();
  while (seen < TOTAL) {
    const records = await consumer.poll(100);
    for (const record of records) {
      const event = fromRecord(record);
      if (event.type === BenchEvent.type) seen++;
    }
    const last = new Map<number, bigint>();
    for (const record of records) last.set(record.partition, record.offset + 1n);
    await consumer.commit(
      [...last].map(([partition, offset]) => ({ topic: BenchTopic.name, partition, offset })),
    );
  }
  const perSecond = TOTAL / ((performance.now() - started) / 1000);
  await consumer.close();
  return perSecond;
}

/** A plain function, as most projections and counters are, or an async one, as handlers doing I/O are. */
type HandlerKind = 'plain' | 'async';

/** Events per second a router with the given options gets through, and CPU microseconds per event. */
async function routerRate(
  transport: Transport,
  group: string,
  options: Partial<RouterOptions>,
  handler: HandlerKind,
): Promise<{ perSecond: number; cpuMicros: number }> {
  // The run before left garbage and closing work behind; without this, whichever router runs second in a
  // pair pays for the first one's collection, and a pair's ratio depends on its order.
  await settle();
  let seen = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const router = createRouter({
    transport,
    catalog: benchCatalog,
    group,
    logger: silent,
    shutdownSignals: [],
    ...options,
  });
  const count = () => {
    if (++seen === TOTAL) done();
  };
  router.on(BenchEvent, handler === 'plain' ? count : async () => count());
  const started = performance.now();
  const cpu = process.cpuUsage();
  await router.start();
  await finished;
  const used = process.cpuUsage(cpu);
  const perSecond = TOTAL / ((performance.now() - started) / 1000);
  await router.close();
  return { perSecond, cpuMicros: (used.user + used.system) / TOTAL };
}

/**
 * CPU nanoseconds per event of the default layers composed around a no-op handler, beyond correlation
 * alone (which the bare router keeps): the chain's own cost, without a transport's noise. 64 callers at
 * once, like the router's default concurrency; best of 7 alternating rounds of 200,000 events.
 */
async function chainAlone(handler: HandlerKind): Promise<number> {
  const events = Array.from({ length: 1_000 }, (_, i) =>
    fromRecord(
      toRecord(
        createEvent(BenchEvent, { key: `k${i}`, seq: i, sentAt: 0, pad: PAD }, { source: 'urn:keel:bench' }),
      ),
    ),
  );
  const signal = new AbortController().signal;
  const noop: HandlerFunction = handler === 'plain' ? () => {} : async () => {};
  const layers = {
    bare: () => [correlation()],
    full: () => [
      correlation(),
      tracing({ system: 'keel' }),
      metricsMiddleware(createMetrics()),
      validation(BenchEvent),
      retry(),
      circuitBreaker({ name: 'bench', metrics: createMetrics() }).middleware,
    ],
  };
  const nanosPerEvent = async (chain: Middleware[]): Promise<number> => {
    await settle();
    const handle = compose(chain, noop);
    const count = 200_000;
    let next = 0;
    const started = process.cpuUsage();
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < count) {
          const event = events[next++ % events.length]!;
          await handle(event, {
            topic: BenchTopic.name,
            partition: 1,
            offset: 5n,
            group: 'bench',
            handler: 'bench',
            attempt: 1,
            delivery: 1,
            signal,
          });
        }
      }),
    );
    const used = process.cpuUsage(started);
    return ((used.user + used.system) * 1_000) / count;
  };
  const best = { bare: Number.POSITIVE_INFINITY, full: Number.POSITIVE_INFINITY };
  for (let round = 0; round < 7; round++) {
    best.bare = Math.min(best.bare, await nanosPerEvent(layers.bare()));
    best.full = Math.min(best.full, await nanosPerEvent(layers.full()));
  }
  return best.full - best.bare;
}

/** CPU time per event of the bare and the full router, over alternating pairs of runs. */
async function comparePairs(transport: Transport, handler: HandlerKind) {
  // The bare handler: the Router with every optional layer off (correlation, which carries causation to
  // what a handler publishes, is not optional). Each pair runs both back to back, which share the
  // machine's load as single runs do not; which one goes first shifts a pair's ratio by a few points, so
  // pairs alternate their order and the ratio of CPU time per event (full / bare) is the geometric mean
  // of the median ratio of each order, in which that shift cancels out.
  const bare = { retry: false, circuitBreaker: false, validate: false, tracing: false } as const;
  const bareRuns: Array<{ perSecond: number; cpuMicros: number }> = [];
  const fullRuns: Array<{ perSecond: number; cpuMicros: number }> = [];
  const ratios: { bareFirst: number[]; fullFirst: number[] } = { bareFirst: [], fullFirst: [] };
  for (let pair = 0; pair < PAIRS; pair++) {
    const runBare = () => routerRate(transport, `bench-bare-${handler}-${pair}`, bare, handler);
    const runFull = () =>
      routerRate(transport, `bench-full-${handler}-${pair}`, { metrics: createMetrics() }, handler);
    const [first, second] =
      pair % 2 === 0 ? [await runBare(), await runFull()] : [await runFull(), await runBare()];
    const [withoutChain, withChain] = pair % 2 === 0 ? [first, second] : [second, first];
    bareRuns.push(withoutChain);
    fullRuns.push(withChain);
    (pair % 2 === 0 ? ratios.bareFirst : ratios.fullFirst).push(withChain.cpuMicros / withoutChain.cpuMicros);
  }
  const bareFirst = percentile(ratios.bareFirst, 50);
  const fullFirst = percentile(ratios.fullFirst, 50);
  const summary = (runs: typeof bareRuns) => ({
    perSecond: Math.max(...runs.map((r) => r.perSecond)),
    cpuMicros: percentile(
      runs.map((r) => r.cpuMicros),
      50,
    ),
  });
  return {
    bare: summary(bareRuns),
    full: summary(fullRuns),
    overhead: (Math.sqrt(bareFirst * fullFirst) - 1) * 100,
    bareFirst: (bareFirst - 1) * 100,
    fullFirst: (fullFirst - 1) * 100,
  };
}

/**
 * Handler throughput: raw consumer, router without middleware, router with the full default chain —
 * for a plain handler and for an async one.
 */
export async function handlerThroughput(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-bench-router-'));
  const transport = createEmbeddedTransport({ path: join(dir, 'keel.db'), logger: silent });
  await transport.ensureTopics([BenchTopic]);
  const publisher = createPublisher({ transport, catalog: benchCatalog, source: 'urn:keel:bench' });
  for (let from = 0; from < TOTAL; from += 1000) {
    await publisher.publishMany(
      BenchEvent,
      Array.from({ length: 1000 }, (_, i) => ({
        key: `k${(from + i) % 1000}`,
        seq: from + i,
        sentAt: 0,
        pad: PAD,
      })),
    );
  }
  const raw = await rawConsumer(transport);
  const results: BenchResult[] = [
    { name: 'consume: raw group consumer, no router', value: Math.round(raw), unit: 'events/s' },
  ];
  const round = (value: number) => Math.round(value * 10) / 10;
  for (const handler of ['plain', 'async'] as const) {
    const compared = await comparePairs(transport, handler);
    const chainNanos = await chainAlone(handler);
    results.push(
      {
        name: `consume: router, bare ${handler} handler (no optional middleware)`,
        value: Math.round(compared.bare.perSecond),
        unit: 'events/s',
        note: `best of ${PAIRS} runs; median ${compared.bare.cpuMicros.toFixed(2)} µs CPU per event`,
      },
      {
        name: `consume: router, ${handler} handler, full default middleware`,
        value: Math.round(compared.full.perSecond),
        unit: 'events/s',
        note: `best of ${PAIRS} runs; median ${compared.full.cpuMicros.toFixed(2)} µs CPU per event; ${TOTAL} events of ~500 B already stored, 12 partitions, 1,000 keys; chain = correlation, tracing (no SDK), metrics, validation, retry, breaker`,
      },
      {
        name: `middleware overhead vs bare handler, ${handler} handler (CPU per event, pairs of runs)`,
        value: round(compared.overhead),
        unit: '%',
        target: 15,
        better: 'lower',
        note: `${PAIRS} alternating pairs; median overhead ${round(compared.bareFirst)} % when the bare handler ran first, ${round(compared.fullFirst)} % when the full chain did`,
      },
      {
        name: `middleware chain alone around a no-op ${handler} handler, beyond correlation`,
        value: round(chainNanos / 1_000),
        unit: 'µs CPU per event',
        note: `${round((chainNanos / 1_000 / compared.bare.cpuMicros) * 100)} % of the bare router's median CPU per event in this run`,
      },
    );
  }
  await transport.close();
  rmSync(dir, { recursive: true, force: true });
  return results;
}
