import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEvents } from '../store/contract/contract-helpers.ts';
import { startTempNode, type TempNode } from './test-support/temp-node.ts';

let temp: TempNode;
beforeAll(async () => {
  temp = await startTempNode();
  await temp.node.store.store.append('ward-a', testEvents(2500, 'test.bed.assigned'));
  await temp.node.store.store.forTenant('acme').append('ward-b', testEvents(30, 'test.bed.released'));
});
afterAll(async () => {
  await temp?.close();
});

const get = (path: string) => fetch(`${temp.node.url}${path}`);
const post = (path: string, body: unknown) =>
  fetch(`${temp.node.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('store exports over HTTP', () => {
  it('streams NDJSON and CSV of a selection', async () => {
    const ndjson = await get('/v1/store/export?type=test.bed.assigned');
    expect(ndjson.status).toBe(200);
    expect(ndjson.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    const lines = (await ndjson.text()).trim().split('\n');
    expect(lines).toHaveLength(2500);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ type: 'test.bed.assigned', data: { n: 1 } });
    const csv = await (await get('/v1/store/export?format=csv&tenant=acme')).text();
    expect(csv.trim().split('\r\n')).toHaveLength(31);
  });

  it('streams Parquet that DuckDB reads back, and leaves no temporary file', async () => {
    const response = await get('/v1/store/export?format=parquet');
    expect(response.headers.get('content-type')).toBe('application/vnd.apache.parquet');
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(bytes.subarray(0, 4).toString()).toBe('PAR1');
    await expect.poll(() => readdirSync(join(temp.dir, 'exports'))).toEqual([]);
  });

  it('writes an export file as a job, which a query then reads with the same rows', async () => {
    const started = await post('/v1/exports', { format: 'parquet', name: 'beds', type: 'test.bed.assigned' });
    expect(started.status).toBe(202);
    const job = (await started.json()) as { id: string };
    const done = await temp.node.jobs.settled(job.id);
    expect(done).toMatchObject({ status: 'succeeded', counts: { rows: 2500 } });
    const path = done.items.files?.[0] as string;
    const listed = (await (await get('/v1/exports')).json()) as {
      items: Array<{ name: string; path: string }>;
    };
    expect(listed.items.map((item) => item.name)).toEqual(['beds.parquet']);
    const query = await post('/v1/query', {
      sql: `SELECT count(*), count(DISTINCT id), min(version), max(version) FROM read_parquet('${path}')`,
    });
    expect(((await query.json()) as { rows: unknown[][] }).rows).toEqual([['2500', '2500', 1, 2500]]);
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const back = await connection.runAndReadAll(`SELECT count(*) FROM read_parquet('${path}')`);
    expect(back.getRows()).toEqual([[2500n]]);
    connection.closeSync();
    instance.closeSync();
    const again = await post('/v1/exports', { format: 'parquet', name: 'beds' });
    expect(again.status).toBe(409);
  });

  it('refuses a selection that breaks the schema and an unknown format', async () => {
    const response = await get('/v1/store/export?format=xlsx&since=yesterday');
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { errors: Array<{ path: string }> };
    expect(problem.errors.map((issue) => issue.path).sort()).toEqual(['query.format', 'query.since']);
  });
});
