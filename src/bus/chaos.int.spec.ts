import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createEmbeddedTransport } from '../transport/embedded/index.ts';
import { testBrokers } from '../transport/kafka/test-support/kafka-test-cluster.ts';
import type { Transport } from '../transport/transport.ts';
import { createDeadLetterQueue, type DeadLetterQueue } from './dead-letter/dead-letter-queue.ts';
import { createPublisher } from './publisher.ts';
import { CounterIncremented, counterCatalogFor } from './test-support/counter-catalog.ts';
import {
  deleteKafkaTopicsWithPrefix,
  kafkaTestPrefix,
  openKafkaTestTransport,
} from './test-support/kafka-test-transport.ts';

const KEYS = 500;
const keyOf = (seq: number) => `k${seq % KEYS}`;
/** Poison until healed: its key's later events must wait behind it in the DLQ. */
const isPoison = (seq: number) => seq % 1999 === 7;

interface Scenario {
  name: 'embedded' | 'kafka';
  total: number;
  open(dir: string): { transport: Transport; prefix: string; cleanup: () => Promise<void> };
}

const scenarios: Scenario[] = [
  {
    name: 'embedded',
    total: 20_000,
    open: (dir) => ({
      transport: createEmbeddedTransport({ path: join(dir, 'keel.db'), logger: pino({ level: 'silent' }) }),
      prefix: `chaos${process.pid}`,
      cleanup: async () => {},
    }),
  },
  {
    name: 'kafka',
    // Every SIGKILL costs a session timeout on Kafka: fewer events keep the run near a minute.
    total: 6_000,
    open: () => {
      const prefix = kafkaTestPrefix('chaos');
      return {
        transport: openKafkaTestTransport(),
        prefix,
        cleanup: () => deleteKafkaTopicsWithPrefix(prefix),
      };
    },
  },
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(scenarios)('chaos on $name: ordered retries through SIGKILLs and a rebalance', (scenario) => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-chaos-'));
  const path = join(dir, 'keel.db');
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const child of children) await killed(child);
    rmSync(dir, { recursive: true, force: true });
  });

  const startConsumer = (prefix: string) =>
    new Promise<ChildProcess>((resolve, reject) => {
      const script = join(import.meta.dirname, 'test-support/chaos-consumer.ts');
      const child = spawn(process.execPath, [script, scenario.name, path, prefix], {
        stdio: ['ignore', 'pipe', 'inherit'],
        // The child has no test context to read the cluster from: it is handed over, as when the tests started it.
        env: { ...process.env, KEEL_KAFKA_BROKERS: testBrokers().join(',') },
      });
      children.push(child);
      child.stdout!.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) resolve(child);
      });
      child.on('error', reject);
    });
  const killed = (child: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });

  it('ends with every event handled once, in publish order per key, a poisoned key parked in the DLQ until its head is retried', async () => {
    const { total } = scenario;
    const { transport, prefix, cleanup } = scenario.open(dir);
    const { catalog, topic } = counterCatalogFor(prefix, 6);
    await transport.ensureTopics([topic]);
    const publisher = createPublisher({ transport, catalog, source: 'urn:keel:chaos' });
    for (let from = 0; from < total; from += 1000) {
      const batch = Array.from({ length: Math.min(1000, total - from) }, (_, i) => from + i);
      await publisher.publishMany(
        CounterIncremented,
        batch.map((seq) => ({ key: keyOf(seq), seq })),
      );
    }
    const db = new Database(path);
    db.pragma('busy_timeout = 5000');
    db.exec(`CREATE TABLE IF NOT EXISTS chaos_effects (
      id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL,
      pid INTEGER NOT NULL DEFAULT 0, topic TEXT NOT NULL DEFAULT '', at INTEGER NOT NULL DEFAULT 0)`);
    db.exec('CREATE TABLE IF NOT EXISTS chaos_healed (healed INTEGER NOT NULL)');
    const effects = () => db.prepare<[], { n: number }>('SELECT count(*) AS n FROM chaos_effects').get()!.n;
    const dlq = createDeadLetterQueue({ transport, group: `${prefix}-chaos` });
    const pending = async () => (await dlq.list({ status: 'pending', limit: total })).length;
    const untilEffects = (n: number) =>
      until(
        async () => effects() >= n,
        90_000,
        async () => ({ effects: effects(), pending: await pending() }),
      );

    // Killed once; a second member joins while chains are in flight; the first of those two is killed.
    const marks: string[] = [];
    const mark = (what: string) => marks.push(`${what} at ${Date.now()}`);
    const first = await startConsumer(prefix);
    mark(`first ${first.pid}`);
    await untilEffects(total * 0.2);
    await killed(first);
    mark('first killed');
    const second = await startConsumer(prefix);
    mark(`second ${second.pid}`);
    await untilEffects(total * 0.4);
    const third = await startConsumer(prefix);
    mark(`third ${third.pid}`);
    await untilEffects(total * 0.6);
    await killed(second);
    mark('second killed');
    await until(async () => effects() + (await pending()) >= total, 120_000);

    const parked = await parkedSnapshot(db, dlq, total);
    expect(parked.bothHandledAndDead).toEqual([]);
    expect(parked.earlyAfterPoison).toEqual([]);
    expect(parked.heads.length).toBeGreaterThan(0);
    expect(parked.notBehindTheirHead).toEqual([]);

    // Healed: retrying each head releases its key's parked events, in order. A released event gets one
    // delivery: failing again (20 % of attempts still fail), it heads its chain in the DLQ again.
    db.prepare('INSERT INTO chaos_healed (healed) VALUES (1)').run();
    const retryHeads = async () => {
      for (const head of await dlq.list({ status: 'pending', limit: total })) {
        if (head.parkedBehindEntry === undefined) await dlq.retry(head.id, { by: 'chaos-test' });
      }
    };
    await retryHeads();
    await until(
      async () => {
        if (effects() >= total && (await pending()) === 0) return true;
        await retryHeads();
        return false;
      },
      60_000,
      async () => ({
        effects: effects(),
        pending: await dlq.list({ status: 'pending', limit: 20 }),
      }),
    );
    await killed(third);

    const rows = db
      .prepare<[], { seq: number; key: string; pid: number; topic: string; at: number }>(
        'SELECT seq, key, pid, topic, at FROM chaos_effects ORDER BY id',
      )
      .all();
    const counts = new Map<number, number>();
    for (const row of rows) counts.set(row.seq, (counts.get(row.seq) ?? 0) + 1);
    const missing = Array.from({ length: total }, (_, seq) => seq).filter((seq) => !counts.has(seq));
    const doubles = [...counts.values()].filter((n) => n > 1).length;
    expect({ missing: missing.length, doubles, orderViolations: orderViolations(rows), marks }).toEqual({
      marks,
      missing: 0,
      doubles: 0,
      orderViolations: [],
    });
    db.close();
    await transport.close();
    await cleanup();
  }, 300_000);
});

/** Effects of a key out of publish order (a seq handled after a later one of its key). */
function orderViolations(
  rows: readonly { seq: number; key: string; pid?: number; topic?: string; at?: number }[],
): string[] {
  const last = new Map<string, (typeof rows)[number]>();
  const violations: string[] = [];
  for (const row of rows) {
    const before = last.get(row.key);
    if (before !== undefined && before.seq > row.seq) {
      const where = (r: typeof row) => `${r.seq} (pid ${r.pid}, ${r.topic}, at ${r.at})`;
      violations.push(`${row.key}: ${where(row)} after ${where(before)}`);
    }
    if (before === undefined || row.seq > before.seq) last.set(row.key, row);
  }
  return violations;
}

/** What the DLQ and the effects say once everything was handled or parked, before any DLQ action. */
async function parkedSnapshot(db: Database.Database, dlq: DeadLetterQueue, total: number) {
  const handled = new Set(
    db
      .prepare<[], { seq: number }>('SELECT seq FROM chaos_effects')
      .all()
      .map((row) => row.seq),
  );
  const entries = await dlq.list({ status: 'pending', limit: total });
  const seqOf = (entry: (typeof entries)[number]) => (entry.event!.data as { seq: number }).seq;
  const heads = entries.filter((entry) => entry.parkedBehindEntry === undefined);
  const poisoned = Array.from({ length: total }, (_, seq) => seq).filter(isPoison);
  return {
    heads,
    bothHandledAndDead: entries.map(seqOf).filter((seq) => handled.has(seq)),
    // Every event of a poisoned key after its poison waits: none was handled.
    earlyAfterPoison: poisoned.flatMap((poison) =>
      Array.from({ length: total - poison - 1 }, (_, i) => poison + 1 + i).filter(
        (seq) => keyOf(seq) === keyOf(poison) && handled.has(seq),
      ),
    ),
    // Parked entries wait behind the head of their own key.
    notBehindTheirHead: entries
      .filter((entry) => entry.parkedBehindEntry !== undefined)
      .filter((entry) => {
        const head = entries.find((e) => e.id === entry.parkedBehindEntry);
        return head?.record.key !== entry.record.key || seqOf(head) > seqOf(entry);
      })
      .map(seqOf),
  };
}

async function until(
  condition: () => Promise<boolean>,
  timeoutMs: number,
  describe: () => Promise<unknown> = async () => undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      const state = JSON.stringify(await describe(), (_, v) => (typeof v === 'bigint' ? String(v) : v));
      throw new Error(`condition not met in time: ${state?.slice(0, 3000)}`);
    }
    await sleep(200);
  }
}
