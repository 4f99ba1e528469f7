import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTempNode, type TempNode } from '../../server/test-support/temp-node.ts';
import { testEvents } from '../../store/contract/contract-helpers.ts';
import { runCli } from '../test-support/run-cli.ts';

let temp: TempNode;
const keel = (args: string[]) => runCli(args, { env: { KEEL_URL: temp.node.url! }, timeoutMs: 30_000 });

beforeAll(async () => {
  temp = await startTempNode();
  await temp.node.store.store.append('ward-a', testEvents(4, 'test.bed.assigned'));
  await temp.node.store.store.append('ward-b', testEvents(2, 'test.bed.released'));
});
afterAll(async () => {
  await temp?.close();
});

describe('keel export --store', () => {
  it('writes a Parquet export of a selection that keel query reads back with the same rows', async () => {
    const file = join(temp.dir, 'exports', 'assigned.parquet');
    const exported = await keel([
      'export',
      '--store',
      '--format',
      'parquet',
      '--type',
      'test.bed.assigned',
      '--out',
      file,
    ]);
    expect(exported.stderr).toBe(`exported to ${file}\n`);
    const back = await keel([
      'query',
      `SELECT count(*) AS n, min(type) AS t FROM read_parquet('${file}')`,
      '-o',
      'json',
    ]);
    expect(JSON.parse(back.stdout).rows).toEqual([['4', 'test.bed.assigned']]);
    const ndjson = await keel(['export', '--store']);
    expect(ndjson.stdout.trim().split('\n')).toHaveLength(6);
    const usage = await keel(['export']);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/--store/);
  });
});

describe('keel query', () => {
  it('prints the rows of a SELECT as a table, and as JSON', async () => {
    const table = await keel([
      'query',
      'SELECT type, count(*) AS n FROM events GROUP BY type ORDER BY n DESC',
    ]);
    expect(table.stderr).toBe('');
    expect(table.status).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^TYPE\s+N$/);
    expect(lines[1]).toMatch(/^test\.bed\.assigned\s+4$/);
    expect(lines[2]).toMatch(/^test\.bed\.released\s+2$/);
    expect(lines[3]).toMatch(/^2 rows in \d+ ms$/);
    const json = await keel(['query', 'SELECT count(*) AS n FROM events', '-o', 'json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ rows: [['6']], truncated: false });
  });

  it('refuses a write with the reason and a non-zero exit, and the events stay', async () => {
    const refused = await keel(['query', 'DROP TABLE events']);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/422.*only a SELECT may run/);
    const syntax = await keel(['query', 'SELECT *\n FORM events']);
    expect(syntax.stderr).toMatch(/does not parse.*line 2, column 7/);
    const count = await keel(['query', 'SELECT count(*) AS n FROM events', '-o', 'json']);
    expect(JSON.parse(count.stdout).rows).toEqual([['6']]);
  });
});
