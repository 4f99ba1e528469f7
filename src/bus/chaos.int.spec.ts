import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createEmbeddedTransport } from '../transport/embedded/index.ts';
import { createDeadLetterQueue } from './dead-letter/dead-letter-queue.ts';
import { createPublisher } from './publisher.ts';
import { CounterIncremented, counterCatalogFor } from './test-support/counter-catalog.ts';

const TOTAL = 20_000;
const POISON = Array.from({ length: TOTAL }, (_, seq) => seq).filter((seq) => seq % 2000 === 7).length;

describe('chaos: failing handler, consumer SIGKILLed twice', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-chaos-'));
  const path = join(dir, 'keel.db');
  const prefix = `chaos${process.pid}`;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const startConsumer = () =>
    new Promise<ChildProcess>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [join(import.meta.dirname, 'test-support/chaos-consumer.ts'), path, prefix],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      child.stdout!.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) resolve(child);
      });
      child.on('error', reject);
    });
  const killed = (child: ChildProcess) =>
    new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });

  it('ends with every event handled with effect exactly once or in the DLQ with its cause', async () => {
    const transport = createEmbeddedTransport({ path, logger: pino({ level: 'silent' }) });
    const { catalog, topic } = counterCatalogFor(prefix, 6);
    await transport.ensureTopics([topic]);
    const publisher = createPublisher({ transport, catalog, source: 'urn:keel:chaos' });
    for (let from = 0; from < TOTAL; from += 1000) {
      await publisher.publishMany(
        CounterIncremented,
        Array.from({ length: 1000 }, (_, i) => ({ key: `k${(from + i) % 97}`, seq: from + i })),
      );
    }

    const db = new Database(path, { readonly: false });
    db.exec('CREATE TABLE IF NOT EXISTS chaos_effects (event_id TEXT NOT NULL, seq INTEGER NOT NULL)');
    const effects = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM chaos_effects');
    const dlq = createDeadLetterQueue({ transport, group: `${prefix}-chaos` });

    let child = await startConsumer();
    for (const share of [0.2, 0.5]) {
      while (effects.get()!.n < TOTAL * share) await new Promise((resolve) => setTimeout(resolve, 20));
      await killed(child);
      child = await startConsumer();
    }
    const deadline = Date.now() + 120_000;
    let dead = 0;
    while (Date.now() < deadline) {
      dead = (await dlq.list({ limit: TOTAL })).length;
      if (effects.get()!.n + dead >= TOTAL) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await killed(child);

    const rows = db
      .prepare<[], { seq: number; n: number }>('SELECT seq, count(*) AS n FROM chaos_effects GROUP BY seq')
      .all();
    const doubles = rows.filter((row) => row.n > 1).length;
    const entries = await dlq.list({ limit: TOTAL });
    const handled = new Set(rows.map((row) => row.seq));
    const deadSeqs = new Set(entries.map((entry) => (entry.event!.data as { seq: number }).seq));
    const missing = Array.from({ length: TOTAL }, (_, seq) => seq).filter(
      (seq) => !handled.has(seq) && !deadSeqs.has(seq),
    );
    expect({ missing: missing.length, doubles }).toEqual({ missing: 0, doubles: 0 });
    expect(deadSeqs.size).toBeGreaterThanOrEqual(POISON);
    for (const entry of entries) {
      expect(entry.failure.errorMessage).toMatch(/poison|transient failure/);
      expect(entry.failure.attempts).toBeGreaterThanOrEqual(3);
    }
    for (const seq of deadSeqs) expect(handled.has(seq)).toBe(false);
    db.close();
    await transport.close();
  }, 180_000);
});
