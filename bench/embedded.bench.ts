import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { createPublisher } from '../src/bus/publisher.ts';
import { createRouter } from '../src/bus/router.ts';
import { createEvent } from '../src/events/create-event.ts';
import { toRecord } from '../src/events/kafka-binding.ts';
import { createEmbeddedTransport } from '../src/transport/embedded/index.ts';
import type { Transport } from '../src/transport/transport.ts';
import { BenchEvent, BenchTopic, benchCatalog, PAD } from './bench-catalog.ts';
import { type BenchResult, percentile } from './stats.ts';

const silent = pino({ level: 'silent' });
const sample = (seq: number) => ({ key: `k${seq % 1000}`, seq, sentAt: performance.now(), pad: PAD });

interface Scratch {
  transport: Transport;
  path: string;
  done(): Promise<void>;
}

async function scratch(synchronous: 'full' | 'normal'): Promise<Scratch> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-bench-'));
  const path = join(dir, 'keel.db');
  const transport = createEmbeddedTransport({ path, synchronous, logger: silent });
  await transport.ensureTopics([BenchTopic]);
  return {
    transport,
    path,
    async done() {
      await transport.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Raw better-sqlite3 ceiling: the same rows inserted in 1,000-row transactions, nothing else. */
function rawSqliteRowsPerSecond(synchronous: 'full' | 'normal', rows: number, bytes: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'keel-bench-raw-'));
  const db = new Database(join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.exec('CREATE TABLE r (p INTEGER, o INTEGER, v BLOB, PRIMARY KEY (p, o)) WITHOUT ROWID');
  const insert = db.prepare('INSERT INTO r VALUES (?, ?, ?)');
  const value = Buffer.alloc(bytes, 1);
  const batch = db.transaction((from: number) => {
    for (let i = from; i < from + 1000; i++) insert.run(i % 12, i, value);
  });
  const started = performance.now();
  for (let from = 0; from < rows; from += 1000) batch(from);
  const seconds = (performance.now() - started) / 1000;
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return rows / seconds;
}

/** Batched durable publish: `publishMany` with 1,000-event batches, beside the raw SQLite ceiling. */
export async function batchedPublish(synchronous: 'full' | 'normal'): Promise<BenchResult[]> {
  const { transport, done } = await scratch(synchronous);
  const publisher = createPublisher({ transport, catalog: benchCatalog, source: 'urn:keel:bench' });
  const total = 200_000;
  const batchSize = 1000;
  const record = toRecord(createEvent(BenchEvent, sample(0), { source: 'urn:keel:bench' }));
  const recordBytes =
    record.value!.byteLength +
    Object.entries(record.headers).reduce((sum, [k, v]) => sum + k.length + v.length, 0);
  const batch = (from: number) => Array.from({ length: batchSize }, (_, i) => sample(from + i));
  await publisher.publishMany(BenchEvent, batch(0));
  const started = performance.now();
  for (let from = 0; from < total; from += batchSize) await publisher.publishMany(BenchEvent, batch(from));
  const perSecond = total / ((performance.now() - started) / 1000);
  await done();
  const raw = rawSqliteRowsPerSecond(synchronous, total, recordBytes);
  return [
    {
      name: `batched durable publish (synchronous=${synchronous})`,
      value: Math.round(perSecond),
      unit: 'events/s',
      target: 200_000,
      better: 'higher',
      note: `${total} events in batches of ${batchSize}, ${recordBytes} B per event (data + ce_ headers), validated and enveloped; raw better-sqlite3 ceiling (same bytes as one blob, 1,000-row transactions, nothing else) ${Math.round(raw)} rows/s, ratio ${(perSecond / raw).toFixed(2)}`,
    },
  ];
}

/** Single awaited publishes from 64 concurrent publishers: latency percentiles and throughput. */
export async function concurrentSinglePublish(synchronous: 'full' | 'normal'): Promise<BenchResult[]> {
  const { transport, done } = await scratch(synchronous);
  const publisher = createPublisher({ transport, catalog: benchCatalog, source: 'urn:keel:bench' });
  const publishers = 64;
  const durationMs = 5000;
  const latencies: number[] = [];
  let seq = 0;
  const until = performance.now() + durationMs;
  await Promise.all(
    Array.from({ length: publishers }, async () => {
      while (performance.now() < until) {
        const started = performance.now();
        await publisher.publish(BenchEvent, sample(seq++));
        latencies.push(performance.now() - started);
      }
    }),
  );
  await done();
  const note = `${publishers} publishers × ${durationMs / 1000} s, ${latencies.length} publishes, ${Math.round(latencies.length / (durationMs / 1000))} events/s`;
  return [
    {
      name: `single awaited publish p50 (synchronous=${synchronous})`,
      value: round(percentile(latencies, 50)),
      unit: 'ms',
      note,
    },
    {
      name: `single awaited publish p99 (synchronous=${synchronous})`,
      value: round(percentile(latencies, 99)),
      unit: 'ms',
      better: 'lower',
      note,
    },
  ];
}

/** End-to-end latency, publish call to handler, at a steady rate, publisher and router in one process. */
export async function endToEnd(
  synchronous: 'full' | 'normal',
  rate = 5000,
  seconds = 5,
): Promise<BenchResult[]> {
  const { transport, done } = await scratch(synchronous);
  const publisher = createPublisher({ transport, catalog: benchCatalog, source: 'urn:keel:bench' });
  const latencies: number[] = [];
  const warmup = rate; // the first second warms caches and is not counted
  const router = createRouter({
    transport,
    catalog: benchCatalog,
    group: 'bench',
    logger: silent,
    shutdownSignals: [],
  });
  router.on(BenchEvent, (event) => {
    if (event.data!.seq >= warmup) latencies.push(performance.now() - event.data!.sentAt);
  });
  await router.start();
  const total = rate * (seconds + 1);
  const tickMs = 1;
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
    await new Promise((resolve) => setTimeout(resolve, tickMs));
  }
  await Promise.all(inFlight);
  const deadline = performance.now() + 10_000;
  while (latencies.length < total - warmup && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await router.close();
  await done();
  const note = `${rate} events/s for ${seconds} s after 1 s warm-up, ${latencies.length}/${total - warmup} received, publisher and router in one process`;
  return [
    {
      name: `end-to-end p50 at ${rate}/s (synchronous=${synchronous})`,
      value: round(percentile(latencies, 50)),
      unit: 'ms',
      note,
    },
    {
      name: `end-to-end p99 at ${rate}/s (synchronous=${synchronous})`,
      value: round(percentile(latencies, 99)),
      unit: 'ms',
      target: 5,
      better: 'lower',
      note,
    },
  ];
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
