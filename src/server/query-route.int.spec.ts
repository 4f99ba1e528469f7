import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEvents } from '../store/contract/contract-helpers.ts';
import { startTempNode, type TempNode } from './test-support/temp-node.ts';

let temp: TempNode;
beforeAll(async () => {
  temp = await startTempNode();
  await temp.node.store.store.append('ward-a', testEvents(12, 'test.bed.assigned'));
  await temp.node.store.store.forTenant('acme').append('ward-b', testEvents(3, 'test.bed.assigned'));
});
afterAll(async () => {
  await temp?.close();
});

const query = (body: unknown) =>
  fetch(`${temp.node.url}/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/** The fields of an answer or a problem these tests look at. */
interface Answered {
  rows: unknown[][];
  truncated: boolean;
  errors: Array<{ path: string } & Record<string, unknown>>;
}
const read = async (response: Response) => (await response.json()) as Answered;

describe('POST /v1/query', () => {
  it('answers a SELECT over the event store with columns, rows and how much was loaded', async () => {
    const response = await query({
      sql: 'SELECT tenant, count(*) AS n FROM events GROUP BY tenant ORDER BY 1',
    });
    expect(response.status).toBe(200);
    const answer = await read(response);
    expect(answer).toMatchObject({
      columns: [
        { name: 'tenant', type: 'VARCHAR' },
        { name: 'n', type: 'BIGINT' },
      ],
      rows: [
        ['acme', '3'],
        ['default', '12'],
      ],
      truncated: false,
      loaded: 15,
    });
  });

  it('cuts the answer at maxRows', async () => {
    const answer = await read(await query({ sql: 'FROM events ORDER BY position', maxRows: 2 }));
    expect(answer.rows).toHaveLength(2);
    expect(answer.truncated).toBe(true);
  });

  it('refuses a write with 422 naming the rule, and writes nothing', async () => {
    const response = await query({ sql: 'DELETE FROM events' });
    expect(response.status).toBe(422);
    expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const problem = await read(response);
    expect(problem.errors).toEqual([
      expect.objectContaining({
        path: 'body.sql',
        rule: 'read_only',
        message: expect.stringMatching(/SELECT/),
      }),
    ]);
    const count = await read(await query({ sql: 'SELECT count(*) FROM events' }));
    expect(count.rows).toEqual([['15']]);
  });

  it('says where a query does not parse', async () => {
    const problem = await read(await query({ sql: 'SELECT *\nFORM events' }));
    expect(problem.errors[0]).toMatchObject({ path: 'body.sql', rule: 'syntax', line: 2, column: 6 });
  });

  it('refuses a body that breaks the schema', async () => {
    const response = await query({ sql: '', maxRows: 0 });
    expect(response.status).toBe(400);
    const problem = await read(response);
    expect(problem.errors.map((issue) => issue.path).sort()).toEqual(['body.maxRows', 'body.sql']);
  });
});
