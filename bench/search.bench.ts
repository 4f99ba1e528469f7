// Whole-topic search on the embedded transport (SQLite): the search job's scan with its window split across
// scan threads, the same scan on the transport's own connection, and the transport's raw read of the same
// records, in one run, several rounds interleaved. Rates are wall-clock; CPU-seconds say what the cores did.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEvent } from '../src/events/create-event.ts';
import { toRecord } from '../src/events/kafka-binding.ts';
import type { JobContext } from '../src/server/jobs/job-registry.ts';
import { compileMessageFilter, messagePrefilter } from '../src/server/topics/message-filter.ts';
import { searchTopic } from '../src/server/topics/search-topic.ts';
import { createEmbeddedTransport, type EmbeddedTransport } from '../src/transport/embedded/index.ts';
import { partitionForKey } from '../src/transport/partitioner.ts';
import type { PartitionWrite } from '../src/transport/transport.ts';
import { BenchEvent, BenchTopic, PAD } from './bench-catalog.ts';
import { type BenchResult, percentile } from './stats.ts';

const EVENTS = Number(process.env.KEEL_BENCH_SEARCH_EVENTS ?? 1_000_000);
const ROUNDS = Number(process.env.KEEL_BENCH_SEARCH_ROUNDS ?? 3);
const BATCH = 20_000;
const WANTED = EVENTS - 1;

/** Appends EVENTS keyed benchmark events, encoded once each, as the API benchmark does. */
async function seed(transport: EmbeddedTransport): Promise<void> {
  await transport.ensureTopics([{ name: BenchTopic.name, partitions: BenchTopic.partitions }]);
  for (let from = 0; from < EVENTS; from += BATCH) {
    const byPartition = new Map<number, PartitionWrite>();
    for (let seq = from; seq < Math.min(EVENTS, from + BATCH); seq++) {
      const data = { key: `k${seq % 10_000}`, seq, sentAt: 0, pad: PAD };
      const event = createEvent(BenchEvent, data, { source: 'urn:keel:bench' });
      const partition = partitionForKey(String(event.partitionkey), BenchTopic.partitions);
      const write = byPartition.get(partition) ?? { topic: BenchTopic.name, partition, records: [] };
      byPartition.set(partition, write);
      (write.records as unknown[]).push(toRecord(event, { validated: true }));
    }
    await transport.append([...byPartition.values()]);
  }
}

/** A measured scan: records looked at per wall second, and CPU-seconds of the whole process (all threads). */
interface Scan {
  perSecond: number;
  cpuSeconds: number;
  wallSeconds: number;
  scanned: number;
  matched: string[];
}

async function measure(run: () => Promise<{ scanned: number; matched: string[] }>): Promise<Scan> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const { scanned, matched } = await run();
  const wallSeconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return {
    perSecond: scanned / wallSeconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    wallSeconds,
    scanned,
    matched,
  };
}

/** The search job's work (`data.seq==<last>`, held by the last event only) without HTTP around it. */
function search(transport: EmbeddedTransport) {
  return measure(async () => {
    const counts: Record<string, number> = {};
    const matched: string[] = [];
    const context: JobContext = {
      signal: new AbortController().signal,
      progress: () => {},
      count: (name, by = 1, item) => {
        counts[name] = (counts[name] ?? 0) + by;
        if (item !== undefined) matched.push(item);
      },
    };
    // The filter the API compiles for `{ where: ['data.seq==<last>'] }`, and what it hands the transport.
    const filter = { where: [`data.seq==${WANTED}`] };
    const match = compileMessageFilter(filter, 'body');
    const prefilter = messagePrefilter(filter);
    await searchTopic(
      transport,
      { topic: BenchTopic, match, maxScan: EVENTS * 2, maxMatches: 10, ...(prefilter ? { prefilter } : {}) },
      context,
    );
    return { scanned: counts.scanned ?? 0, matched };
  });
}

/** The transport's own read of every record of the topic, 5,000 at a time. */
function rawRead(transport: EmbeddedTransport) {
  return measure(async () => {
    let scanned = 0;
    for (const { partition, earliest, latest } of await transport.offsets(BenchTopic.name)) {
      for (let offset = earliest; offset < latest; ) {
        const records = await transport.read(BenchTopic.name, partition, offset, 5_000);
        if (records.length === 0) break;
        scanned += records.length;
        offset = records.at(-1)!.offset + 1n;
      }
    }
    return { scanned, matched: [] };
  });
}

const median = (scans: Scan[], pick: (s: Scan) => number) => percentile(scans.map(pick), 50);
const spread = (scans: Scan[], pick: (s: Scan) => number, digits = 0) => {
  const values = scans.map(pick).sort((a, b) => a - b);
  const f = (v: number) => (digits === 0 ? Math.round(v).toLocaleString('en-US') : v.toFixed(digits));
  return `${f(values[0]!)}–${f(values.at(-1)!)}`;
};

/** Whole-topic search over EVENTS events, with scan threads and in place, beside the raw read. */
export async function searchBenchmarks(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-bench-search-'));
  const path = join(dir, 'log.db');
  const threaded = createEmbeddedTransport({ path, synchronous: 'normal', maintenanceIntervalMs: 0 });
  const inPlace = createEmbeddedTransport({
    path,
    synchronous: 'normal',
    maintenanceIntervalMs: 0,
    scanThreads: 0,
  });
  try {
    await seed(threaded);
    const rounds = { threaded: [] as Scan[], inPlace: [] as Scan[], raw: [] as Scan[] };
    if (!(await threaded.startScanThreads())) throw new Error('the scan threads did not start');
    await search(threaded); // warms the page cache and the threads' memory maps
    for (let round = 0; round < ROUNDS; round++) {
      rounds.threaded.push(await search(threaded));
      rounds.inPlace.push(await search(inPlace));
      rounds.raw.push(await rawRead(inPlace));
    }
    for (const scan of [...rounds.threaded, ...rounds.inPlace]) {
      if (
        scan.scanned !== EVENTS ||
        scan.matched.join() !== rounds.inPlace[0]!.matched.join() ||
        scan.matched.length !== 1
      )
        throw new Error(
          `search found ${scan.matched.join()} in ${scan.scanned} records: not the one event it should`,
        );
    }
    const ratios = rounds.threaded.map((s, i) => s.perSecond / rounds.raw[i]!.perSecond);
    const inPlaceRatios = rounds.inPlace.map((s, i) => s.perSecond / rounds.raw[i]!.perSecond);
    const cores = (s: Scan) => s.cpuSeconds / s.wallSeconds;
    const perCpu = (s: Scan) => s.scanned / s.cpuSeconds;
    const setting = `${EVENTS.toLocaleString('en-US')} events of ~500 B on 12 partitions, ${ROUNDS} rounds (median, range)`;
    return [
      {
        name: 'search: whole-topic search for a data field, 2 scan threads',
        value: Math.round(median(rounds.threaded, (s) => s.perSecond)),
        unit: 'events/s',
        target: 500_000,
        better: 'higher',
        note: `${spread(rounds.threaded, (s) => s.perSecond)} events/s; ${spread(rounds.threaded, cores, 2)} cores busy (CPU-s / s), ${spread(rounds.threaded, perCpu)} events per CPU-second; ${spread(
          ratios.map((r) => ({ perSecond: r }) as Scan),
          (s) => s.perSecond,
          2,
        )}× the raw read; ${setting}`,
      },
      {
        name: 'search: the same on the transport’s connection (scanThreads 0)',
        value: Math.round(median(rounds.inPlace, (s) => s.perSecond)),
        unit: 'events/s',
        note: `${spread(rounds.inPlace, (s) => s.perSecond)} events/s; ${spread(rounds.inPlace, cores, 2)} cores, ${spread(rounds.inPlace, perCpu)} events per CPU-second; ${spread(
          inPlaceRatios.map((r) => ({ perSecond: r }) as Scan),
          (s) => s.perSecond,
          2,
        )}× the raw read`,
      },
      {
        name: 'search: transport raw read of the same topic',
        value: Math.round(median(rounds.raw, (s) => s.perSecond)),
        unit: 'events/s',
        note: `${spread(rounds.raw, (s) => s.perSecond)} events/s, ${spread(rounds.raw, perCpu)} events per CPU-second; transport.read, 5,000 records per call, no decoding of the CloudEvent`,
      },
    ];
  } finally {
    await Promise.all([threaded.close(), inPlace.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
}
