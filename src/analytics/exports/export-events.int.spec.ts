import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testEvent } from '../../store/contract/contract-helpers.ts';
import type { EventStore, StoredEvent } from '../../store/event-store.ts';
import { createSqliteEventStore } from '../../store/sqlite/index.ts';
import { type History, openHistory } from '../history/history.ts';
import { exportToFile } from './write-export.ts';

let dir: string;
let exportsDir: string;
let store: EventStore;
let history: History;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keel-export-'));
  exportsDir = join(dir, 'exports');
  store = createSqliteEventStore({ path: join(dir, 'keel.db'), synchronous: 'normal' });
  history = await openHistory({ store, exportsDir });
});
afterEach(async () => {
  history.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** 300 vitals with nested data and awkward text, 40 admissions for tenant acme; every stored event. */
async function seed(): Promise<StoredEvent[]> {
  await store.append(
    'patient-1',
    Array.from({ length: 300 }, (_, i) =>
      testEvent(
        'test.vitals.recorded',
        { heartRate: 60 + (i % 40), note: i % 7 === 0 ? 'said "ouch", then\nslept' : null, tags: ['a', i] },
        { subject: i % 5 === 0 ? '=cmd' : `p-${i}`, correlationid: `c-${i % 3}` },
      ),
    ),
  );
  await store.forTenant('acme').append(
    'acme-ward',
    Array.from({ length: 40 }, () => testEvent('test.patient.admitted', { ward: 'B' })),
  );
  const page = await store.readAll({ maxCount: 10_000 });
  return page.events;
}

/** Rows of a file as a fresh DuckDB reads them. */
async function readBack(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

describe('exports of the event store', () => {
  it('writes Parquet that DuckDB reads back with the same row count and values', async () => {
    const stored = await seed();
    const file = join(exportsDir, 'all.parquet');
    expect(await exportToFile(history, {}, 'parquet', file)).toMatchObject({ rows: 340 });
    const rows = await readBack(`SELECT * FROM read_parquet('${file}') ORDER BY position`);
    expect(rows).toHaveLength(stored.length);
    rows.forEach((row, index) => {
      const expected = stored[index] as StoredEvent;
      expect(row).toEqual({
        position: expected.position,
        stream_id: expected.streamId,
        version: expected.version,
        tenant: expected.tenantId,
        recorded_at: expected.recordedAt,
        id: expected.event.id,
        type: expected.event.type,
        source: expected.event.source,
        subject: expected.event.subject ?? null,
        time: new Date(expected.event.time as string),
        correlation_id: expected.event.correlationid ?? null,
        causation_id: null,
        data: JSON.stringify(expected.event.data),
      });
    });
  });

  it('exports a selection (types, tenant, correlation id, time range) in every format with the same rows', async () => {
    const stored = await seed();
    const cut = stored[150]?.recordedAt.toISOString() as string;
    const selection = { types: ['test.vitals.recorded'], correlationId: 'c-1', since: cut };
    const expected = stored.filter(
      (s) =>
        s.event.type === 'test.vitals.recorded' &&
        s.event.correlationid === 'c-1' &&
        s.recordedAt.getTime() >= Date.parse(cut),
    );
    expect(expected.length).toBeGreaterThan(0);
    for (const format of ['parquet', 'ndjson', 'csv'] as const) {
      const file = join(exportsDir, `part.${format}`);
      const result = await exportToFile(history, selection, format, file);
      expect(result.rows, format).toBe(expected.length);
    }
    const lines = readFileSync(join(exportsDir, 'part.ndjson'), 'utf8').trim().split('\n');
    const first = JSON.parse(lines[0] as string);
    expect(first).toMatchObject({ id: expected[0]?.event.id, data: expected[0]?.event.data });
    expect(first.recorded_at).toBe(expected[0]?.recordedAt.toISOString());
    const csv = await readBack(
      `SELECT id, data FROM read_csv('${join(exportsDir, 'part.csv')}') ORDER BY position`,
    );
    expect(csv.map((row) => row.id)).toEqual(expected.map((s) => s.event.id));
    expect(JSON.parse(String(csv[0]?.data))).toEqual(expected[0]?.event.data);
    const acme = await exportToFile(history, { tenant: 'acme' }, 'ndjson', join(exportsDir, 'acme.ndjson'));
    expect(acme.rows).toBe(40);
  });

  it('guards CSV cells a spreadsheet would run as a formula', async () => {
    await seed();
    const file = join(exportsDir, 'subjects.csv');
    await exportToFile(history, { types: ['test.vitals.recorded'] }, 'csv', file);
    const text = readFileSync(file, 'utf8');
    expect(text.split('\r\n')[0]).toBe(
      'position,stream_id,version,tenant,recorded_at,id,type,source,subject,time,correlation_id,causation_id,data',
    );
    expect(text).toContain(",'=cmd,");
    expect(text).not.toMatch(/,=cmd,/);
  });

  it('refuses to write Parquet outside its exports folder', async () => {
    await seed();
    await expect(exportToFile(history, {}, 'parquet', join(dir, 'outside.parquet'))).rejects.toThrow(
      /Permission Error/,
    );
  });
});
