import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEvents } from '../store/contract/contract-helpers.ts';
import { startTempNode, type TempNode } from './test-support/temp-node.ts';

let temp: TempNode;
let server: Server;
let requests = 0;
beforeAll(async () => {
  // A real endpoint on loopback: the first request fails with 500, the others are taken.
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(++requests === 1 ? 500 : 204).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  temp = await startTempNode({
    reports: [
      {
        name: 'daily-beds',
        schedule: '30 6 * * *',
        query: 'SELECT count(*) AS n FROM events',
        destination: { webhook: `http://127.0.0.1:${port}/in` },
        initialDelayMs: 20,
      },
    ],
  });
  await temp.node.store.store.append('ward-a', testEvents(5, 'test.bed.assigned'));
});
afterAll(async () => {
  await temp?.close();
  await new Promise((resolve) => server?.close(resolve));
});

const call = (method: string, path: string) => fetch(`${temp.node.url}${path}`, { method });

describe('report routes', () => {
  it('lists the reports with their next run', async () => {
    const list = (await (await call('GET', '/v1/reports')).json()) as {
      items: Array<Record<string, unknown>>;
    };
    expect(list.items).toEqual([
      expect.objectContaining({
        name: 'daily-beds',
        kind: 'query',
        timezone: 'UTC',
        nextRun: expect.stringMatching(/T06:30:00/),
      }),
    ]);
  });

  it('runs one now, retried past a failing webhook, and lists the recorded run', async () => {
    const run = await call('POST', '/v1/reports/daily-beds/run');
    expect(run.status).toBe(200);
    expect(await run.json()).toMatchObject({
      report: 'daily-beds',
      status: 'succeeded',
      rows: 1,
      attempts: 2,
    });
    const runs = (await (await call('GET', '/v1/reports/daily-beds/runs')).json()) as { items: unknown[] };
    expect(runs.items).toEqual([expect.objectContaining({ status: 'succeeded', attempts: 2, error: null })]);
    expect((await call('GET', '/v1/reports/nope/runs')).status).toBe(404);
  });
});
