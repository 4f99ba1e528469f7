// The node's HTTP API on a large topic (embedded transport, SQLite): the message browser's first page and a
// whole-topic search, beside the transport's raw read of the same records, in one run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { configSchema } from '../src/config/config-schema.ts';
import { createEvent } from '../src/events/create-event.ts';
import { toRecord } from '../src/events/kafka-binding.ts';
import { createNode, type KeelNode } from '../src/server/node.ts';
import { partitionForKey } from '../src/transport/partitioner.ts';
import type { PartitionWrite } from '../src/transport/transport.ts';
import { BenchEvent, BenchTopic, benchCatalog, PAD } from './bench-catalog.ts';
import { type BenchResult, percentile } from './stats.ts';

const EVENTS = Number(process.env.KEEL_BENCH_API_EVENTS ?? 1_000_000);
const BATCH = 20_000;
const PAGE_REQUESTS = 30;

/** Appends EVENTS keyed benchmark events straight to the node's transport, encoded once per event. */
async function seed(node: KeelNode): Promise<void> {
  for (let from = 0; from < EVENTS; from += BATCH) {
    const byPartition = new Map<number, PartitionWrite>();
    for (let seq = from; seq < Math.min(EVENTS, from + BATCH); seq++) {
      const event = createEvent(
        BenchEvent,
        { key: `k${seq % 10_000}`, seq, sentAt: 0, pad: PAD },
        { source: 'urn:keel:bench' },
      );
      const partition = partitionForKey(String(event.partitionkey), BenchTopic.partitions);
      const write = byPartition.get(partition) ?? { topic: BenchTopic.name, partition, records: [] };
      byPartition.set(partition, write);
      (write.records as unknown[]).push(toRecord(event, { validated: true }));
    }
    await node.transport.append([...byPartition.values()]);
  }
}

/** Milliseconds of each of `count` GETs of `path` over HTTP, after one warm-up request. */
async function timeGets(url: string, count: number): Promise<number[]> {
  await (await fetch(url)).arrayBuffer();
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const response = await fetch(url);
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
    times.push(performance.now() - started);
  }
  return times;
}

/** Runs a search job for a data field held by the last event only; records looked at per second. */
async function searchRate(base: string): Promise<{ perSecond: number; scanned: number; matched: number }> {
  const started = performance.now();
  const response = await fetch(`${base}/v1/topics/${BenchTopic.name}/search`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ where: [`data.seq==${EVENTS - 1}`], maxScan: EVENTS * 2, maxMatches: 10 }),
  });
  const job = (await response.json()) as { id: string };
  for (;;) {
    const state = (await (await fetch(`${base}/v1/jobs/${job.id}`)).json()) as {
      status: string;
      counts: Record<string, number>;
    };
    if (state.status !== 'running') {
      const seconds = (performance.now() - started) / 1000;
      return {
        perSecond: (state.counts.scanned ?? 0) / seconds,
        scanned: state.counts.scanned ?? 0,
        matched: state.counts.matched ?? 0,
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The transport's own read of every record of the topic, 5,000 at a time; records per second. */
async function rawReadRate(node: KeelNode): Promise<number> {
  const started = performance.now();
  let read = 0;
  for (const { partition, earliest, latest } of await node.transport.offsets(BenchTopic.name)) {
    for (let offset = earliest; offset < latest; ) {
      const records = await node.transport.read(BenchTopic.name, partition, offset, 5_000);
      if (records.length === 0) break;
      read += records.length;
      offset = records.at(-1)!.offset + 1n;
    }
  }
  return read / ((performance.now() - started) / 1000);
}

/** First page of the message browser (newest and oldest first) and a whole-topic search over EVENTS events. */
export async function apiBenchmarks(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-bench-api-'));
  const config = configSchema.parse({ port: 0, dataDir: dir, sync: 'normal', logLevel: 'silent' });
  const node = createNode({ config, catalog: benchCatalog, logger: pino({ level: 'silent' }) });
  try {
    const base = await node.start();
    const seeding = performance.now();
    await seed(node);
    const seededIn = (performance.now() - seeding) / 1000;
    const topicUrl = `${base}/v1/topics/${BenchTopic.name}/messages`;
    const newest = await timeGets(`${topicUrl}?limit=50`, PAGE_REQUESTS);
    const oldest = await timeGets(`${topicUrl}?limit=50&order=oldest`, PAGE_REQUESTS);
    const filtered = await timeGets(`${topicUrl}?limit=50&key=k42`, PAGE_REQUESTS);
    const search = await searchRate(base);
    // The first search of a node starts its scan threads (reading in place until they are up); the next finds them up.
    const again = await searchRate(base);
    const raw = await rawReadRate(node);
    const setting = `${EVENTS.toLocaleString('en-US')} events of ~500 B on 12 partitions (embedded, SQLite, seeded in ${seededIn.toFixed(0)} s), over HTTP`;
    return [
      {
        name: 'api: message browser first page, newest first',
        value: round(percentile(newest, 50)),
        unit: 'ms',
        target: 100,
        better: 'lower',
        note: `p95 ${round(percentile(newest, 95))} ms over ${PAGE_REQUESTS} requests, 50 messages; ${setting}`,
      },
      {
        name: 'api: message browser first page, oldest first',
        value: round(percentile(oldest, 50)),
        unit: 'ms',
        target: 100,
        better: 'lower',
        note: `p95 ${round(percentile(oldest, 95))} ms`,
      },
      {
        name: 'api: message browser first page filtered by key',
        value: round(percentile(filtered, 50)),
        unit: 'ms',
        note: `p95 ${round(percentile(filtered, 95))} ms; one key in 10,000, newest first (scans until 50 match or the page's scan bound)`,
      },
      {
        name: 'api: whole-topic search for a data field',
        value: Math.round(search.perSecond),
        unit: 'events/s',
        target: 500_000,
        better: 'higher',
        note: `${search.scanned.toLocaleString('en-US')} scanned, ${search.matched} matched (data.seq of the last event), as a job polled every 20 ms, the node's first (it starts the scan threads); ${(search.perSecond / raw).toFixed(2)}× the transport's raw read`,
      },
      {
        name: 'api: the same search again, scan threads up',
        value: Math.round(again.perSecond),
        unit: 'events/s',
        target: 500_000,
        better: 'higher',
        note: `${again.scanned.toLocaleString('en-US')} scanned, ${again.matched} matched; ${(again.perSecond / raw).toFixed(2)}× the transport's raw read`,
      },
      {
        name: 'api: transport raw read of the same topic',
        value: Math.round(raw),
        unit: 'events/s',
        note: 'transport.read, 5,000 records per call, every partition, no decoding',
      },
    ];
  } finally {
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const round = (value: number) => Math.round(value * 10) / 10;
