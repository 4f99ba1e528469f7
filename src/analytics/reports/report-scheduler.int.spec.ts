import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OptionsError } from '../../errors/options.ts';
import { testEvents } from '../../store/contract/contract-helpers.ts';
import type { EventStore } from '../../store/event-store.ts';
import { createSqliteEventStore } from '../../store/sqlite/index.ts';
import { type History, openHistory } from '../history/history.ts';
import { openReportRuns, type ReportRuns } from './report-runs.ts';
import { createReportScheduler, type ReportScheduler } from './report-scheduler.ts';

let dir: string;
let store: EventStore;
let history: History;
let runs: ReportRuns;
let scheduler: ReportScheduler | undefined;
let server: Server | undefined;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keel-reports-'));
  store = createSqliteEventStore({ path: join(dir, 'keel.db'), synchronous: 'normal' });
  await store.append('ward-a', testEvents(12, 'test.bed.assigned'));
  history = await openHistory({ store, exportsDir: join(dir, 'exports') });
  runs = openReportRuns(join(dir, 'reports.db'));
});
afterEach(async () => {
  await scheduler?.stop();
  scheduler = undefined;
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
  runs.close();
  history.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A real HTTP endpoint on loopback answering 503 to the first `failures` requests, then 204; keeps the bodies. */
async function endpoint(
  failures: number,
): Promise<{ url: string; bodies: Buffer[]; requests: () => number }> {
  const bodies: Buffer[] = [];
  let requests = 0;
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests++;
      if (requests <= failures) {
        response.writeHead(503).end();
        return;
      }
      bodies.push(Buffer.concat(chunks));
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/reports`, bodies, requests: () => requests };
}

describe('scheduled reports', () => {
  it('retries a failing webhook with backoff until it takes the result, and records the run', async () => {
    const hook = await endpoint(2);
    scheduler = createReportScheduler({
      history,
      runs,
      reports: [
        {
          name: 'beds',
          schedule: '0 6 * * *',
          query: 'SELECT type, count(*) AS n FROM events GROUP BY type',
          destination: { webhook: hook.url },
          initialDelayMs: 20,
        },
      ],
    });
    const run = await scheduler.run('beds');
    expect(run).toMatchObject({ report: 'beds', status: 'succeeded', rows: 1, attempts: 3, error: null });
    expect(run.finishedAt).not.toBeNull();
    expect(hook.requests()).toBe(3);
    expect(JSON.parse(hook.bodies[0]?.toString() ?? '')).toMatchObject({
      report: 'beds',
      rows: [['test.bed.assigned', '12']],
    });
    expect(scheduler.list()[0]?.nextRun).toMatch(/T06:00:00/);
  });

  it('records a run whose destination keeps failing as failed, with the error, after every attempt', async () => {
    const hook = await endpoint(100);
    scheduler = createReportScheduler({
      history,
      runs,
      reports: [
        {
          name: 'nightly',
          schedule: '@daily',
          export: { format: 'csv', selection: { types: ['test.bed.assigned'] } },
          destination: { webhook: hook.url },
          attempts: 3,
          initialDelayMs: 10,
        },
      ],
    });
    const run = await scheduler.run('nightly');
    expect(run).toMatchObject({
      status: 'failed',
      rows: 12,
      attempts: 3,
      error: expect.stringMatching(/answered 503/),
    });
    expect(hook.requests()).toBe(3);
    expect(scheduler.runs('nightly')).toHaveLength(1);
    expect(readdirSync(join(dir, 'exports'))).toEqual([]);
  });

  it('writes an export to a folder on its cron schedule', async () => {
    const folder = join(dir, 'out');
    scheduler = createReportScheduler({
      history,
      runs,
      reports: [
        {
          name: 'every-second',
          schedule: '* * * * * *',
          export: { format: 'parquet' },
          destination: { folder },
        },
      ],
    });
    await expect
      .poll(() => scheduler?.runs().filter((r) => r.status === 'succeeded').length, { timeout: 5_000 })
      .toBeGreaterThan(0);
    const files = readdirSync(folder);
    expect(files[0]).toMatch(/^every-second-.*\.parquet$/);
    expect(
      readFileSync(join(folder, files[0] as string))
        .subarray(0, 4)
        .toString(),
    ).toBe('PAR1');
  });

  it('refuses a report that does not parse, naming the field, and schedules nothing', () => {
    const make = (reports: unknown[]) => () => createReportScheduler({ history, runs, reports });
    expect(
      make([{ name: 'x', schedule: 'every day', query: 'SELECT 1', destination: { folder: dir } }]),
    ).toThrow(/reports\.0\.schedule: not a cron expression/);
    expect(make([{ name: 'x', schedule: '@daily', destination: { folder: dir } }])).toThrow(
      /reports\.0\.query/,
    );
    const same = { name: 'x', schedule: '@daily', query: 'SELECT 1', destination: { folder: dir } };
    expect(make([same, same])).toThrow(OptionsError);
  });
});
