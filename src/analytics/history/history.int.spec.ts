import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testEvent, testEvents } from '../../store/contract/contract-helpers.ts';
import type { EventStore } from '../../store/event-store.ts';
import { createSqliteEventStore } from '../../store/sqlite/index.ts';
import { QueryInvalidError, QueryTimeoutError } from '../errors.ts';
import { type History, openHistory } from './history.ts';

let dir: string;
let store: EventStore;
let history: History | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'keel-history-'));
  store = createSqliteEventStore({ path: join(dir, 'keel.db'), synchronous: 'normal' });
});
afterEach(async () => {
  history?.close();
  history = undefined;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** 20 heart rates for patient-1 (60..79), 5 discharges; 10 admissions for tenant acme. */
async function seed(): Promise<void> {
  await store.append(
    'patient-1',
    Array.from({ length: 20 }, (_, i) => testEvent('test.vitals.recorded', { heartRate: 60 + i })),
  );
  await store.append('patient-1', testEvents(5, 'test.patient.discharged', { correlationid: 'c-1' }));
  await store.forTenant('acme').append('acme-2', testEvents(10, 'test.patient.admitted'));
}

async function refusal(promise: Promise<unknown>): Promise<QueryInvalidError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(QueryInvalidError);
  return error as QueryInvalidError;
}

describe('history: SQL over the event store', () => {
  it('answers aggregates over the events table, JSON data included', async () => {
    await seed();
    history = await openHistory({ store });
    const answer = await history.query(
      `SELECT type, tenant, count(*) AS n, avg((data->>'heartRate')::INT) AS mean
       FROM events GROUP BY ALL ORDER BY type`,
    );
    expect(answer.columns.map((column) => column.name)).toEqual(['type', 'tenant', 'n', 'mean']);
    expect(answer.columns[2]?.type).toBe('BIGINT');
    expect(answer.rows).toEqual([
      ['test.patient.admitted', 'acme', '10', null],
      ['test.patient.discharged', 'default', '5', null],
      ['test.vitals.recorded', 'default', '20', 69.5],
    ]);
    expect(answer.truncated).toBe(false);
  });

  it('sees events appended after it opened, each copied once', async () => {
    history = await openHistory({ store });
    await seed();
    expect((await history.query('SELECT count(*) FROM events')).rows).toEqual([['35']]);
    await store.append('patient-9', testEvents(3, 'test.patient.admitted'));
    const answer = await history.query('SELECT count(*), count(DISTINCT id), max(position) FROM events');
    expect(answer.rows[0]?.slice(0, 2)).toEqual(['38', '38']);
    expect(await history.state()).toMatchObject({ loaded: 38 });
  });

  it('keeps its copy in a file across a restart and loads only what is new', async () => {
    const path = join(dir, 'history.duckdb');
    await seed();
    history = await openHistory({ store, path });
    expect(await history.catchUp()).toBe(35);
    history.close();
    await store.append('patient-9', testEvents(2, 'test.patient.admitted'));
    history = await openHistory({ store, path });
    expect(await history.catchUp()).toBe(2);
    expect((await history.query('SELECT count(*) FROM events')).rows).toEqual([['37']]);
  });

  it('returns at most maxRows rows and says the answer was cut', async () => {
    await seed();
    history = await openHistory({ store });
    const answer = await history.query('SELECT * FROM range(100000) t(i)', { maxRows: 3 });
    expect(answer.rows).toEqual([['0'], ['1'], ['2']]);
    expect(answer.truncated).toBe(true);
  });

  it('refuses anything but one SELECT, saying why, and changes nothing', async () => {
    await seed();
    history = await openHistory({ store });
    await history.catchUp();
    for (const sql of [
      'DELETE FROM events',
      'INSERT INTO events SELECT * FROM events',
      'DROP TABLE events',
      'UPDATE events SET type = 1',
      'CREATE TABLE t AS SELECT 1',
      "COPY events TO 'x.csv'",
      "ATTACH 'other.duckdb'",
      'SET threads = 1',
      'PRAGMA enable_profiling',
      'CALL pragma_version()',
      'CHECKPOINT',
    ]) {
      const error = await refusal(history.query(sql));
      expect(error.rule, sql).toBe('read_only');
    }
    expect((await refusal(history.query('SELECT 1; DELETE FROM events'))).rule).toBe('read_only');
    expect((await refusal(history.query('SELECT 1; SELECT 2'))).rule).toBe('single_statement');
    expect((await history.query('SELECT count(*) FROM events')).rows).toEqual([['35']]);
  });

  it('says where a query does not parse or does not bind', async () => {
    history = await openHistory({ store });
    const syntax = await refusal(history.query('SELECT type,\n  count(*) FORM events'));
    expect(syntax.rule).toBe('syntax');
    expect(syntax.position).toEqual({ line: 2, column: 17, offset: 29 });
    expect(syntax.message).toMatch(/syntax error at or near "events"/);
    const unknown = await refusal(history.query('SELECT nope FROM events'));
    expect(unknown.rule).toBe('invalid');
    expect(unknown.message).toMatch(/nope/);
    expect(unknown.position).toMatchObject({ line: 1, column: 8 });
  });

  it('reads exported files in its exports folder and nothing else on disk', async () => {
    const exportsDir = join(dir, 'exports');
    history = await openHistory({ store, exportsDir });
    writeFileSync(join(exportsDir, 'visits.csv'), 'ward,n\nA,3\nB,4\n');
    writeFileSync(join(dir, 'secret.csv'), 'x\n1\n');
    expect(
      (await history.query(`SELECT sum(n) FROM read_csv('${join(exportsDir, 'visits.csv')}')`)).rows,
    ).toEqual([['7']]);
    const outside = await refusal(history.query(`SELECT * FROM read_csv('${join(dir, 'secret.csv')}')`));
    expect(outside.message).toMatch(/Permission Error/);
    expect(existsSync(join(exportsDir, 'x.csv'))).toBe(false);
  });

  it('interrupts a query past its time limit', async () => {
    history = await openHistory({ store });
    const error = await history
      .query('SELECT count(*) FROM range(10000000000) a, range(1000) b', { timeoutMs: 200 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(QueryTimeoutError);
  });
});
