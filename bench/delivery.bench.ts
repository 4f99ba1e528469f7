import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { pino } from 'pino';
import { Agent } from 'undici';
import { createPublisher } from '../src/bus/publisher.ts';
import type { Publisher } from '../src/bus/publisher-port.ts';
import { createDeliveryManager, type DeliveryManager } from '../src/delivery/delivery-manager.ts';
import { openDeliveryStore } from '../src/delivery/delivery-store.ts';
import { requestOf } from '../src/delivery/send-event.ts';
import { createEvent } from '../src/events/create-event.ts';
import { createEmbeddedGroupAdmin } from '../src/transport/embedded/embedded-group-admin.ts';
import { createEmbeddedTransport } from '../src/transport/embedded/index.ts';
import { BenchEvent, BenchTopic, benchCatalog, PAD } from './bench-catalog.ts';
import { type BenchResult, percentile } from './stats.ts';

const silent = pino({ level: 'silent' });
const THROUGHPUT_EVENTS = 20_000;
const IN_FLIGHT = 64;
const KEYS = 1_000;
const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

/** A local endpoint answering 204 to everything, counting requests per path and the latency of each event. */
interface Endpoint {
  url: string;
  count(path: string): Promise<number>;
  /** Milliseconds from the event's `sentAt` to its arrival, for each request to `path`. */
  latencies(path: string): Promise<number[]>;
  close(): Promise<void>;
}

// The endpoint runs in its own thread, as another service would run in its own process: its CPU is not the
// delivery's, and the delivery thread's CPU per delivery (process.threadCpuUsage) is what Keel costs.
const ENDPOINT_SOURCE = `
const { createServer } = require('node:http');
const { parentPort } = require('node:worker_threads');
const counts = new Map();
const latencies = new Map();
const server = createServer((request, response) => {
  const chunks = [];
  request.on('data', (c) => chunks.push(c));
  request.on('end', () => {
    const path = request.url || '/';
    counts.set(path, (counts.get(path) || 0) + 1);
    const list = latencies.get(path) || [];
    list.push(Date.now() - JSON.parse(Buffer.concat(chunks).toString()).sentAt);
    latencies.set(path, list);
    response.writeHead(204).end();
  });
});
server.keepAliveTimeout = 60000;
parentPort.on('message', ({ id, op, path }) => {
  if (op === 'count') parentPort.postMessage({ id, value: counts.get(path) || 0 });
  if (op === 'latencies') parentPort.postMessage({ id, value: latencies.get(path) || [] });
  if (op === 'close') { server.closeAllConnections(); server.close(() => parentPort.postMessage({ id })); }
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
`;

async function startEndpoint(): Promise<Endpoint> {
  const worker = new Worker(ENDPOINT_SOURCE, { eval: true });
  const port = await new Promise<number>((resolve) =>
    worker.once('message', (m: { port: number }) => resolve(m.port)),
  );
  let nextId = 0;
  const pending = new Map<number, (value: unknown) => void>();
  worker.on('message', (m: { id: number; value: unknown }) => pending.get(m.id)?.(m.value));
  const ask = <T>(op: string, path = '') =>
    new Promise<T>((resolve) => {
      const id = nextId++;
      pending.set(id, (value) => {
        pending.delete(id);
        resolve(value as T);
      });
      worker.postMessage({ id, op, path });
    });
  return {
    url: `http://127.0.0.1:${port}`,
    count: (path) => ask<number>('count', path),
    latencies: (path) => ask<number[]>('latencies', path),
    async close() {
      await ask('close');
      await worker.terminate();
    },
  };
}

/** A node's delivery on a fresh embedded file, and its publisher. */
async function openDelivery(
  dir: string,
): Promise<{ delivery: DeliveryManager; publisher: Publisher; close(): Promise<void> }> {
  const path = join(dir, 'keel.db');
  const transport = createEmbeddedTransport({ path, synchronous: 'normal', logger: silent });
  await transport.ensureTopics([{ name: BenchTopic.name, partitions: BenchTopic.partitions }]);
  const groupAdmin = createEmbeddedGroupAdmin({ path });
  const store = openDeliveryStore({ path, synchronous: 'normal' });
  const delivery = createDeliveryManager({
    transport,
    groupAdmin,
    catalog: benchCatalog,
    store,
    logger: silent,
  });
  await delivery.start();
  const publisher = createPublisher({
    transport,
    catalog: benchCatalog,
    source: 'urn:bench',
    logger: silent,
  });
  return {
    delivery,
    publisher,
    async close() {
      await delivery.close();
      store.close();
      await publisher.close();
      await groupAdmin.close();
      await transport.close();
    },
  };
}

const samples = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({
    key: `k-${(from + i) % KEYS}`,
    seq: from + i,
    sentAt: Date.now(),
    pad: PAD,
  }));

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('delivery benchmark timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Deliveries per second of a backlog to `path` (the subscription enabled once the backlog is in). */
async function backlogRate(
  run: Awaited<ReturnType<typeof openDelivery>>,
  endpoint: Endpoint,
  name: string,
): Promise<{ perSecond: number; cpuMicros: number }> {
  await run.delivery.create(name, {
    url: `${endpoint.url}/${name}`,
    secret: SECRET,
    policy: { concurrency: IN_FLIGHT },
  });
  await run.delivery.disable(name, 'loading the backlog');
  for (let i = 0; i < THROUGHPUT_EVENTS; i += 1_000)
    await run.publisher.publishMany(BenchEvent, samples(i, 1_000));
  const cpu = process.threadCpuUsage();
  const started = performance.now();
  await run.delivery.enable(name);
  await waitFor(async () => (await endpoint.count(`/${name}`)) >= THROUGHPUT_EVENTS, 300_000);
  const perSecond = THROUGHPUT_EVENTS / ((performance.now() - started) / 1000);
  return { perSecond, cpuMicros: cpuMicrosPer(cpu, THROUGHPUT_EVENTS) };
}

/**
 * Requests per second (and CPU µs per request) of a bare signed-POST loop with 64 in flight, with the client
 * delivery uses (an undici Agent): the ceiling delivery is read against.
 */
async function rawPostRate(
  endpoint: Endpoint,
  requests: number,
): Promise<{ perSecond: number; cpuMicros: number }> {
  const event = createEvent(BenchEvent, samples(0, 1)[0]!, { source: 'urn:bench' });
  const agent = new Agent({ keepAliveTimeout: 10_000, pipelining: 1 });
  const target = { url: endpoint.url, secret: SECRET, mode: 'binary' as const, timeoutMs: 10_000 };
  const post = async () => {
    const { headers, body } = requestOf(
      target,
      { ...event, data: { ...event.data, sentAt: Date.now() } },
      Date.now(),
    );
    const answer = await agent.request({ origin: endpoint.url, path: '/raw', method: 'POST', headers, body });
    await answer.body.dump();
  };
  let next = 0;
  const cpu = process.threadCpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next++ < requests) await post();
    }),
  );
  const perSecond = requests / ((performance.now() - started) / 1000);
  await agent.close();
  return { perSecond, cpuMicros: cpuMicrosPer(cpu, requests) };
}

/** CPU microseconds (user + system) of this thread (the endpoint's excluded) since `since`, per item. */
function cpuMicrosPer(since: NodeJS.CpuUsage, items: number): number {
  const used = process.threadCpuUsage(since);
  return Math.round((used.user + used.system) / items);
}

/** p50 and p99 milliseconds from publish to arrival at 1,000 events/s (10 every 10 ms) for 10 s. */
async function latencyAt1000(run: Awaited<ReturnType<typeof openDelivery>>, endpoint: Endpoint) {
  await run.delivery.create('latency', { url: `${endpoint.url}/latency`, secret: SECRET });
  const total = 10_000;
  const started = performance.now();
  for (let sent = 0; sent < total; sent += 10) {
    await run.publisher.publishMany(BenchEvent, samples(sent, 10));
    const due = started + ((sent + 10) / 1_000) * 1_000;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
  }
  await waitFor(async () => (await endpoint.count('/latency')) >= total, 60_000);
  const values = await endpoint.latencies('/latency');
  return {
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    rate: total / ((performance.now() - started) / 1000),
  };
}

/** Benchmarks of push delivery on the embedded transport. */
export async function deliveryBenchmarks(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-bench-delivery-'));
  const endpoint = await startEndpoint();
  const run = await openDelivery(dir);
  try {
    await rawPostRate(endpoint, 5_000); // warms the JIT for both: the first run of a path is slower
    const raw = await rawPostRate(endpoint, THROUGHPUT_EVENTS);
    const alone = await backlogRate(run, endpoint, 'alone');
    await run.delivery.remove('alone');
    // A second subscription whose endpoint refuses connections, delivering the same backlog at the same time.
    await run.delivery.create('down', {
      url: 'http://127.0.0.1:9/down',
      secret: SECRET,
      policy: { concurrency: IN_FLIGHT, maxAttempts: 100, maxDelayMs: 1_000 },
    });
    const beside = await backlogRate(run, endpoint, 'beside-down');
    await run.delivery.remove('beside-down');
    await run.delivery.remove('down');
    // Alone again after, so a machine that got busier or quieter meanwhile shows in the two alone runs.
    const aloneAfter = await backlogRate(run, endpoint, 'alone-after');
    await run.delivery.remove('alone-after');
    const latency = await latencyAt1000(run, endpoint);
    const aloneMean = (alone.perSecond + aloneAfter.perSecond) / 2;
    return [
      {
        name: 'delivery: backlog to a local endpoint, 64 in flight (embedded)',
        value: Math.round(alone.perSecond),
        unit: 'deliveries/s',
        target: 5_000,
        better: 'higher',
        note:
          `${THROUGHPUT_EVENTS} events, ${KEYS} keys, ${alone.cpuMicros} CPU µs per delivery (delivery thread); ` +
          `a bare signed-POST loop with 64 in flight: ${Math.round(raw.perSecond)}/s, ${raw.cpuMicros} CPU µs per request ` +
          `(ratio ${(alone.perSecond / raw.perSecond).toFixed(2)})`,
      },
      {
        name: 'delivery: p99 publish→delivery at 1,000 events/s',
        value: latency.p99,
        unit: 'ms',
        note: `p50 ${latency.p50} ms; achieved ${Math.round(latency.rate)} events/s over 10,000 events`,
      },
      {
        name: 'delivery: same backlog while another subscription’s endpoint is down',
        value: Math.round(beside.perSecond),
        unit: 'deliveries/s',
        note:
          `alone before and after: ${Math.round(alone.perSecond)}/s and ${Math.round(aloneAfter.perSecond)}/s; ` +
          `ratio to their mean ${(beside.perSecond / aloneMean).toFixed(2)} (the down endpoint refuses connections)`,
      },
    ];
  } finally {
    await run.close();
    await endpoint.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
