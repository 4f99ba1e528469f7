import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromRecord } from '../events/kafka-binding.ts';
import { testEvent, testEvents } from '../store/contract/contract-helpers.ts';
import type { EventStore } from '../store/event-store.ts';
import { createPostgresEventStore } from '../store/postgres/index.ts';
import { createSqliteEventStore } from '../store/sqlite/index.ts';
import {
  adminConnection,
  dropSchema,
  postgresUrl,
  testSchemaName,
} from '../test-support/postgres-database.ts';
import { usePostgresTestLock } from '../test-support/postgres-lock.ts';
import { createEmbeddedTransport } from '../transport/embedded/index.ts';
import { runReplay } from './replay-command.ts';
import { runCli } from './test-support/run-cli.ts';

let dir: string;
let dataDir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'keel-replay-'));
  dataDir = join(dir, 'data');
  mkdirSync(dataDir);
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Appends the scenario's events to the data dir's SQLite store: 30 admissions (10 acme), 5 discharges. */
async function seed(): Promise<void> {
  const store = createSqliteEventStore({ path: join(dataDir, 'keel.db'), synchronous: 'normal' });
  await store.append('patient-1', testEvents(20, 'test.patient.admitted', { correlationid: 'c-1' }));
  await store.forTenant('acme').append('acme-patient-2', testEvents(10, 'test.patient.admitted'));
  await store.append('patient-1', testEvents(5, 'test.patient.discharged'));
  await store.close();
}

describe('keel replay on the SQLite store', () => {
  const replay = (args: string[], env: Record<string, string> = {}) =>
    runCli(['replay', ...args], { env: { KEEL_DATA_DIR: dataDir, ...env }, cwd: dir });

  it('counts with --dry-run, selecting by types, tenant, time, correlation id and stream prefix', async () => {
    await seed();
    const count = async (args: string[]) => {
      const result = await replay(['--dry-run', ...args]);
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      return result.stdout.trim();
    };
    expect(await count([])).toBe('35 events match');
    expect(await count(['--types', 'test.patient.admitted'])).toBe('30 events match');
    expect(await count(['--types', 'test.patient.admitted, test.patient.discharged'])).toBe(
      '35 events match',
    );
    expect(await count(['--tenant', 'acme'])).toBe('10 events match');
    expect(await count(['--correlation-id', 'c-1'])).toBe('20 events match');
    expect(await count(['--stream-prefix', 'acme-'])).toBe('10 events match');
    expect(await count(['--from', '2000-01-01T00:00:00Z', '--to', '2000-01-02T00:00:00Z'])).toBe(
      '0 events match',
    );
    expect(await count(['--from', '2000-01-01', '--types', 'test.patient.discharged'])).toBe(
      '5 events match',
    );
  });

  it('writes the events as NDJSON on stdout and a progress line every 10 % on stderr when not a terminal', async () => {
    await seed();
    const result = await replay(['--tenant', 'acme', '--batch-size', '1']);
    expect(result.status).toBe(0);
    const lines = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(10);
    expect(lines.map((l) => l.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(lines[0]).toMatchObject({
      streamId: 'acme-patient-2',
      tenantId: 'acme',
      event: { type: 'test.patient.admitted', tenantid: 'acme' },
    });
    const progress = result.stderr.trimEnd().split('\n');
    expect(progress.slice(0, -1).map((l) => l.replace(/ \(.*$/, ''))).toEqual(
      Array.from({ length: 11 }, (_, i) => `replay: ${i * 10}%`),
    );
    expect(progress.at(-1)).toMatch(/^replayed 10 events to stdout in \d+\.\d s$/);
  });

  it('republishes to a topic at a bounded rate', async () => {
    await seed();
    const transport = createEmbeddedTransport({
      path: join(dataDir, 'keel.db'),
      synchronous: 'normal',
      maintenanceIntervalMs: 0,
    });
    await transport.ensureTopics([{ name: 'replayed', partitions: 2 }]);
    await transport.close();
    const started = Date.now();
    const result = await replay([
      '--types',
      'test.patient.discharged',
      '--to-topic',
      'replayed',
      '--rate',
      '25',
    ]);
    expect(result.status).toBe(0);
    // 5 events at 25/s take about 200 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(result.stderr).toContain('replayed 5 events to topic replayed');
    const reader = createEmbeddedTransport({ path: join(dataDir, 'keel.db'), maintenanceIntervalMs: 0 });
    const records = [
      ...(await reader.read('replayed', 0, 0n, 100)),
      ...(await reader.read('replayed', 1, 0n, 100)),
    ];
    await reader.close();
    expect(records.map((r) => fromRecord(r).type)).toEqual(Array(5).fill('test.patient.discharged'));
  });

  it('names every bad flag, and a missing topic, on one line with exit code 2', async () => {
    const bad = await replay(['--from', 'yesterday', '--rate', '-3', '--batch-size', '1.5']);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trimEnd().split('\n')).toEqual([
      'keel: --from: expected an ISO 8601 time, got "yesterday"; --rate: expected a number > 0, got "-3"; --batch-size: expected an integer > 0, got "1.5"',
    ]);
    await seed();
    const missing = await replay(['--to-topic', 'nowhere']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe(
      'keel: --to-topic: topic "nowhere" does not exist on the embedded transport\n',
    );
  });

  it('draws a progress bar in place on a terminal', async () => {
    await seed();
    const out: string[] = [];
    const err: string[] = [];
    const previous = process.env.KEEL_DATA_DIR;
    process.env.KEEL_DATA_DIR = dataDir;
    try {
      const code = await runReplay(
        { types: 'test.patient.admitted' },
        {
          stdout: { write: (s: string) => out.push(s) },
          stderr: { isTTY: true, columns: 100, write: (s: string) => err.push(s) },
        },
      );
      expect(code).toBe(0);
    } finally {
      if (previous === undefined) delete process.env.KEEL_DATA_DIR;
      else process.env.KEEL_DATA_DIR = previous;
    }
    expect(out).toHaveLength(30);
    const drawn = err.join('');
    expect(drawn.startsWith('\rreplay [')).toBe(true);
    expect(drawn).toMatch(/\rreplay \[#{40}\] 100% 30\/30 events [\d,]+ events\/s\n/);
  });
});

describe('keel replay on the PostgreSQL store', () => {
  usePostgresTestLock();

  it('needs KEEL_POSTGRES_URL, then reads the schema given', async () => {
    const missing = await runCli(['replay', '--dry-run'], { env: { KEEL_STORE: 'postgres' }, cwd: dir });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe(
      'keel: KEEL_POSTGRES_URL: required when the store is postgres (KEEL_STORE): a postgres:// connection string\n',
    );
    const schema = testSchemaName('replay_cli');
    const admin = adminConnection();
    const store: EventStore = createPostgresEventStore({ url: postgresUrl, schema, maxConnections: 1 });
    try {
      await store.append('s', [testEvent('test.one'), ...testEvents(3)]);
      const env = { KEEL_STORE: 'postgres', KEEL_POSTGRES_URL: postgresUrl };
      const counted = await runCli(['replay', '--dry-run', '--schema', schema, '--types', 'test.one'], {
        env,
        cwd: dir,
      });
      expect(counted.stdout).toBe('1 events match\n');
      const replayed = await runCli(['replay', '--schema', schema], { env, cwd: dir });
      expect(replayed.status).toBe(0);
      expect(replayed.stdout.trimEnd().split('\n')).toHaveLength(4);
    } finally {
      await store.close();
      await dropSchema(admin, schema);
      await admin.end();
    }
  });
});
