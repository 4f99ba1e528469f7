import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import postgres from 'postgres';
import type { CloudEvent } from '../src/events/cloud-event.ts';
import { createEvent } from '../src/events/create-event.ts';
import { newEventId } from '../src/events/event-id.ts';
import { createCommandHandler } from '../src/store/deciders/command-handler.ts';
import type { Decider, DomainEvent } from '../src/store/deciders/decider.ts';
import type { EventStore } from '../src/store/event-store.ts';
import { createPostgresEventStore } from '../src/store/postgres/index.ts';
import { createSqliteEventStore } from '../src/store/sqlite/index.ts';
import { BenchEvent, PAD } from './bench-catalog.ts';
import { type BenchResult, percentile } from './stats.ts';

/** The PostgreSQL both stores run on: `KEEL_POSTGRES_URL`, else the dev/CI server. */
const URL = process.env.KEEL_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Where Emmett is installed: outside the project, because its peer dependencies (commander 12, and
 * emmett-sqlite pinning an emmett the registry does not serve) conflict with Keel's lockfile. See
 * BENCHMARKS.md for the two commands that install it; without it the Emmett rows are skipped.
 */
const EMMETT_DIR = process.env.KEEL_EMMETT_DIR ?? '/tmp/emmett-bench/postgresql';
/** Where `@event-driven-io/emmett-sqlite` is installed (its own folder: it pins another emmett version). */
const EMMETT_SQLITE_DIR = process.env.KEEL_EMMETT_SQLITE_DIR ?? '/tmp/emmett-bench/sqlite';

const BATCH = 1_000;
const BATCHED_TOTAL = 100_000;
const APPENDERS = 4;
const WRITERS = 16;
const WRITERS_MS = 3_000;
const LOADS = 3_000;
const ROUNDS = 3;

const sample = (seq: number) => ({ key: `k${seq % 1000}`, seq, sentAt: 0, pad: PAD });
/** A Keel CloudEvent of about 530 bytes as stored (attributes and data). */
const keelEvent = (seq: number): CloudEvent =>
  createEvent(BenchEvent, sample(seq), { source: 'urn:keel:bench' }) as CloudEvent;
/** An Emmett event of about the same stored size: its data carries the padding the envelope holds in Keel's. */
const emmettEvent = (seq: number) => ({
  type: 'bench.sample.recorded',
  data: { key: `k${seq % 1000}`, seq, sentAt: 0, pad: PAD, envelope: 'y'.repeat(240) },
});

interface EmmettStore {
  appendToStream(stream: string, events: unknown[], options?: unknown): Promise<unknown>;
  aggregateStream(stream: string, options: unknown): Promise<unknown>;
  close(): Promise<void>;
}

async function loadEmmett(): Promise<
  { getPostgreSQLEventStore(url: string, options?: unknown): EmmettStore } | undefined
> {
  const entry = join(EMMETT_DIR, 'node_modules/@event-driven-io/emmett-postgresql/dist/index.js');
  if (!existsSync(entry)) return undefined;
  return (await import(pathToFileURL(entry).href)) as {
    getPostgreSQLEventStore(url: string, options?: unknown): EmmettStore;
  };
}

async function loadEmmettSqlite(): Promise<
  { getSQLiteEventStore(options: { fileName: string }): Pick<EmmettStore, 'appendToStream'> } | undefined
> {
  const entry = join(EMMETT_SQLITE_DIR, 'node_modules/@event-driven-io/emmett-sqlite/dist/index.js');
  if (!existsSync(entry)) return undefined;
  return (await import(pathToFileURL(entry).href)) as {
    getSQLiteEventStore(options: { fileName: string }): Pick<EmmettStore, 'appendToStream'>;
  };
}

/**
 * The embedded store beside Emmett's SQLite store: batched appends (1,000 events per append) to a file
 * each, one appender (SQLite has one writer). No target: the issue's targets are PostgreSQL's.
 */
export async function sqliteStoreBenchmarks(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-bench-store-'));
  const total = 50_000;
  try {
    const keel = createSqliteEventStore({ path: join(dir, 'keel.db') });
    const batches = Array.from({ length: total / BATCH }, (_, b) =>
      Array.from({ length: BATCH }, (_, i) => keelEvent(b * BATCH + i)),
    );
    await keel.append('warm-up', [keelEvent(0)]);
    const keelRate = await throughput(batches.length, 1, total, (b) =>
      keel.append(`batch-${b}`, batches[b]!),
    );
    await keel.close();
    const emmett = await loadEmmettSqlite();
    let emmettRate: number | undefined;
    if (emmett) {
      const store = emmett.getSQLiteEventStore({ fileName: join(dir, 'emmett.db') });
      const emmettBatches = Array.from({ length: total / BATCH }, (_, b) =>
        Array.from({ length: BATCH }, (_, i) => emmettEvent(b * BATCH + i)),
      );
      await store.appendToStream('warm-up', [emmettEvent(0)]);
      emmettRate = await throughput(emmettBatches.length, 1, total, (b) =>
        store.appendToStream(`batch-${b}`, emmettBatches[b]!),
      );
    }
    return [
      {
        name: 'store: batched append, SQLite (1,000 events/append, synchronous=full)',
        value: Math.round(keelRate),
        unit: 'events/s',
        note:
          emmettRate === undefined
            ? 'Emmett SQLite not installed'
            : `${(keelRate / emmettRate).toFixed(2)}× Emmett SQLite 0.38.5 (${Math.round(emmettRate).toLocaleString('en-US')} events/s, sqlite3 driver defaults); ${total.toLocaleString('en-US')} events`,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `work(i)` for i = 0..count-1 on `concurrency` loops; resolves with events/s for `events` events. */
async function throughput(
  count: number,
  concurrency: number,
  events: number,
  work: (i: number) => Promise<unknown>,
) {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await work(next++);
    }),
  );
  return events / ((performance.now() - started) / 1000);
}

/** `writers` loops each appending one event per call for `ms`; resolves with events/s. */
async function writersThroughput(
  writers: number,
  ms: number,
  append: (writer: number, n: number) => Promise<unknown>,
) {
  let done = 0;
  const started = performance.now();
  const until = started + ms;
  await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      for (let n = 0; performance.now() < until; n++) {
        await append(writer, n);
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

type Counter = DomainEvent<'bench.sample.recorded', { seq: number }>;
const counter: Decider<{ seq: number }, Counter, { count: number; last: number }> = {
  initialState: () => ({ count: 0, last: 0 }),
  decide: (command) => ({ type: 'bench.sample.recorded', data: { seq: command.seq } }),
  evolve: (state, event) => ({ count: state.count + 1, last: event.data.seq }),
};

/**
 * The event store on PostgreSQL, side by side with Emmett (`@event-driven-io/emmett-postgresql`) on the
 * same server: each store in a database of its own, created and dropped here.
 */
export async function storeBenchmarks(): Promise<BenchResult[]> {
  const admin = postgres(URL, { max: 1, onnotice: () => {} });
  const keelDb = `keel_bench_store_${process.pid}`;
  const emmettDb = `keel_bench_emmett_${process.pid}`;
  const urlOf = (db: string) => {
    const url = new globalThis.URL(URL);
    url.pathname = `/${db}`;
    return url.toString();
  };
  await admin.unsafe(`CREATE DATABASE ${keelDb}`);
  const emmett = await loadEmmett();
  if (emmett) await admin.unsafe(`CREATE DATABASE ${emmettDb}`);
  const results: BenchResult[] = [];
  const loadBefore = loadavg()[0]!;
  let keel: EventStore | undefined;
  let other: EmmettStore | undefined;
  try {
    keel = createPostgresEventStore({ url: urlOf(keelDb), maxConnections: 16 });
    other = emmett?.getPostgreSQLEventStore(urlOf(emmettDb));
    await keel.append('warm-up', [keelEvent(0)]);
    await other?.appendToStream('warm-up', [emmettEvent(0)]);

    // Rounds alternate between the two stores, so a change in the machine's load hits both alike; each
    // figure is the median of its rounds.
    const ratio = (ours: number, theirs: number | undefined) =>
      theirs === undefined
        ? 'Emmett not installed'
        : `${(ours / theirs).toFixed(2)}× Emmett (${Math.round(theirs).toLocaleString('en-US')} events/s)`;
    const median = (values: number[]) => percentile(values, 50);
    // Every round starts after a checkpoint, so none pays for the WAL another round wrote (a checkpoint
    // running meanwhile, full-page writes after it). Needs a superuser, as on the dev/CI server.
    const checkpoint = () => admin.unsafe('CHECKPOINT').catch(() => {});

    // Batched appends: 1,000 events per append, a stream each, 4 appenders at once.
    const keelBatches = Array.from({ length: BATCHED_TOTAL / BATCH }, (_, b) =>
      Array.from({ length: BATCH }, (_, i) => keelEvent(b * BATCH + i)),
    );
    const emmettBatches = Array.from({ length: BATCHED_TOTAL / BATCH }, (_, b) =>
      Array.from({ length: BATCH }, (_, i) => emmettEvent(b * BATCH + i)),
    );
    const keelBatched: number[] = [];
    const emmettBatched: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      if (other) {
        await checkpoint();
        emmettBatched.push(
          await throughput(emmettBatches.length, APPENDERS, BATCHED_TOTAL, (b) =>
            other!.appendToStream(`batch-${round}-${b}`, emmettBatches[b]!),
          ),
        );
      }
      await checkpoint();
      // Fresh events each round: an id already stored would be answered as a retry, not written.
      const batches =
        round === 0
          ? keelBatches
          : keelBatches.map((batch) => batch.map((e) => ({ ...e, id: newEventId() })));
      keelBatched.push(
        await throughput(batches.length, APPENDERS, BATCHED_TOTAL, (b) =>
          keel!.append(`batch-${round}-${b}`, batches[b]!, { expectedVersion: 'no_stream' }),
        ),
      );
    }
    results.push({
      name: 'store: batched append, PostgreSQL (1,000 events/append, 4 appenders)',
      value: Math.round(median(keelBatched)),
      unit: 'events/s',
      target: 100_000,
      better: 'higher',
      note: `${ratio(median(keelBatched), other ? median(emmettBatched) : undefined)}; target also ≥ 2× Emmett; ~530-byte events, ${BATCHED_TOTAL.toLocaleString('en-US')} per round, median of ${ROUNDS} rounds`,
    });

    // 16 writers, one event per append, each to a stream of its own (no expected version on either side).
    const keelWriters: number[] = [];
    const emmettWriters: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      if (other) {
        await checkpoint();
        emmettWriters.push(
          await writersThroughput(WRITERS, WRITERS_MS, (w, n) =>
            other!.appendToStream(`writer-${w}`, [emmettEvent(n)]),
          ),
        );
      }
      await checkpoint();
      keelWriters.push(
        await writersThroughput(WRITERS, WRITERS_MS, (w, n) => keel!.append(`writer-${w}`, [keelEvent(n)])),
      );
    }
    results.push({
      name: 'store: 16 concurrent writers, one event per append, PostgreSQL',
      value: Math.round(median(keelWriters)),
      unit: 'events/s',
      target: 10_000,
      better: 'higher',
      note: `${ratio(median(keelWriters), other ? median(emmettWriters) : undefined)}; target also ≥ 2× Emmett; ${WRITERS_MS / 1000} s per round, median of ${ROUNDS} rounds`,
    });

    // Read-all: every event in global order, pages of 1,000, events parsed.
    await checkpoint();
    const readStarted = performance.now();
    let read = 0;
    let after: string | undefined;
    for (;;) {
      const page = await keel.readAll({ after, maxCount: BATCH });
      read += page.events.length;
      after = page.next;
      if (!page.hasMore) break;
    }
    const readAll = read / ((performance.now() - readStarted) / 1000);
    const subscribed = await subscribeThroughput(keel, read);
    results.push({
      name: 'store: read-all, PostgreSQL (pages of 1,000, gap-free cursor)',
      value: Math.round(readAll),
      unit: 'events/s',
      target: 300_000,
      better: 'higher',
      note: `${read.toLocaleString('en-US')} events; a catch-up subscription over the same events (next page read while the handler runs): ${Math.round(subscribed).toLocaleString('en-US')} events/s`,
    });

    // Aggregate load: latest snapshot plus a 50-event tail, folded by the decider.
    const handler = createCommandHandler({
      store: keel,
      decider: counter,
      aggregateType: 'counter',
      streamId: () => 'aggregate-1',
      source: 'urn:keel:bench',
      snapshot: { version: 1, every: 100 },
    });
    for (let seq = 1; seq <= 150; seq++) await handler.handle({ seq });
    const probe = await handler.load('aggregate-1');
    if (probe.snapshotVersion !== 100 || probe.version !== 150) {
      throw new Error(`aggregate load bench: expected snapshot 100 + tail 50, got ${JSON.stringify(probe)}`);
    }
    for (let i = 0; i < 300; i++) await handler.load('aggregate-1');
    const latencies: number[] = [];
    for (let i = 0; i < LOADS; i++) {
      const t = performance.now();
      await handler.load('aggregate-1');
      latencies.push(performance.now() - t);
    }
    let emmettLoad: number[] = [];
    if (other) {
      await other.appendToStream(
        'aggregate-1',
        Array.from({ length: 150 }, (_, i) => emmettEvent(i)),
      );
      const options = { evolve: (state: number) => state + 1, initialState: () => 0 };
      for (let i = 0; i < 300; i++) await other.aggregateStream('aggregate-1', options);
      emmettLoad = [];
      for (let i = 0; i < LOADS; i++) {
        const t = performance.now();
        await other.aggregateStream('aggregate-1', options);
        emmettLoad.push(performance.now() - t);
      }
    }
    const p99 = percentile(latencies, 99);
    results.push({
      name: 'store: aggregate load p99, snapshot + 50-event tail, PostgreSQL',
      value: Number(p99.toFixed(3)),
      unit: 'ms',
      target: 2,
      better: 'lower',
      note: `p50 ${percentile(latencies, 50).toFixed(3)} ms over ${LOADS.toLocaleString('en-US')} loads (one statement: snapshot and tail)${
        other
          ? `; Emmett (no snapshots: all 150 events) p50 ${percentile(emmettLoad, 50).toFixed(3)} ms, p99 ${percentile(emmettLoad, 99).toFixed(3)} ms`
          : ''
      }`,
    });
    // Other work on the machine moves these figures: say how busy it was.
    results[0]!.note += `; load average ${loadBefore.toFixed(1)} at the start of the suite, ${loadavg()[0]!.toFixed(1)} at the end`;
  } finally {
    await keel?.close();
    await other?.close();
    await admin.unsafe(`DROP DATABASE IF EXISTS ${keelDb} WITH (FORCE)`);
    if (emmett) await admin.unsafe(`DROP DATABASE IF EXISTS ${emmettDb} WITH (FORCE)`);
    await admin.end();
  }
  return results;
}

/** A catch-up subscription over the first `count` events; resolves with events/s. */
async function subscribeThroughput(store: EventStore, count: number): Promise<number> {
  let seen = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const started = performance.now();
  const subscription = store.subscribe({
    batchSize: BATCH,
    handler: () => {
      if (++seen === count) finish();
    },
  });
  await finished;
  const perSecond = count / ((performance.now() - started) / 1000);
  await subscription.stop();
  return perSecond;
}
