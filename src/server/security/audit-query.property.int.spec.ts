import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTempNode, type TempNode } from '../test-support/temp-node.ts';

// The audit list's filters face the outside: any query string is a 200 or a 400, never a 5xx, and reading
// the trail changes nothing but the trail (each read of it is itself recorded).
describe('audit query filters under fuzzing', () => {
  let temp: TempNode;
  let key: string;
  beforeAll(async () => {
    temp = await startTempNode({ config: { auth: 'required', rateLimit: 0 } });
    key = temp.node.keys.create({ name: 'fuzz-auditor', roles: ['auditor'] }).key;
  });
  afterAll(() => temp?.close());

  const FIELDS = [
    'order',
    'after',
    'before',
    'kind',
    'subject',
    'operation',
    'outcome',
    'from',
    'to',
    'limit',
  ];

  it('answers 200 or 400 to any filters, with problem+json for the 400s', async () => {
    const before = await temp.totalRecords();
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.constantFrom(...FIELDS, 'other'),
          fc.oneof(
            fc.string(),
            fc.integer().map(String),
            fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          ),
        ),
        async (filters) => {
          const response = await fetch(`${temp.node.url}/v1/audit?${new URLSearchParams(filters)}`, {
            headers: { authorization: `Bearer ${key}` },
          });
          expect([200, 400]).toContain(response.status);
          if (response.status === 400) expect(response.headers.get('content-type')).toMatch(/problem\+json/);
          await response.arrayBuffer();
        },
      ),
      { numRuns: 150 },
    );
    expect(await temp.totalRecords()).toBe(before);
    expect(await temp.node.audit.verify()).toMatchObject({ ok: true });
  });
});
