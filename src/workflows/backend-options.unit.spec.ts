import type { Sql } from 'postgres';
import { describe, expect, it } from 'vitest';
import { OptionsError } from '../errors/options.ts';
import { parsePostgresWorkflowBackendOptions } from './postgres/postgres-options.ts';
import { parseSqliteWorkflowBackendOptions } from './sqlite/sqlite-options.ts';

describe('SQLite workflow backend options', () => {
  it('applies the defaults', () => {
    expect(parseSqliteWorkflowBackendOptions({ path: 'keel.db' })).toEqual({
      path: 'keel.db',
      synchronous: 'full',
      busyRetryMs: 10_000,
    });
  });

  it('names the broken keys', () => {
    expect(() =>
      parseSqliteWorkflowBackendOptions({ path: '', synchronous: 'off' as 'full', busyRetryMs: -1 }),
    ).toThrow(
      /sqlite workflow backend\.path: .*sqlite workflow backend\.synchronous: .*sqlite workflow backend\.busyRetryMs/,
    );
  });
});

describe('PostgreSQL workflow backend options', () => {
  it('applies the defaults and keeps a given pool', () => {
    expect(parsePostgresWorkflowBackendOptions({ url: 'postgres://x' })).toEqual({
      url: 'postgres://x',
      schema: 'keel',
      maxConnections: 4,
    });
    const sql = (() => {}) as unknown as Sql;
    expect(parsePostgresWorkflowBackendOptions({ sql, schema: 'wf_1' }).sql).toBe(sql);
  });

  it('names the broken keys', () => {
    const parse = () =>
      parsePostgresWorkflowBackendOptions({ url: 'postgres://x', schema: 'Bad-Name', maxConnections: 0 });
    expect(parse).toThrow(OptionsError);
    expect(parse).toThrow(/postgres workflow backend\.schema: expected lower-case letters/);
    expect(parse).toThrow(/postgres workflow backend\.maxConnections/);
    expect(() => parsePostgresWorkflowBackendOptions({} as { url: string })).toThrow(
      /postgres workflow backend\.url/,
    );
  });
});
