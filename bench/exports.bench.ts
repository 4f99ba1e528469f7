// Exports of the event store: 200,000 stored events (SQLite store, JSON data of five fields) copied into the
// history database (DuckDB), then exported to Parquet (zstd) and to NDJSON, each timed alone.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportToFile } from '../src/analytics/exports/write-export.ts';
import { openHistory } from '../src/analytics/history/history.ts';
import { newEventId } from '../src/events/event-id.ts';
import { createSqliteEventStore } from '../src/store/sqlite/index.ts';
import type { BenchResult } from './stats.ts';

const TOTAL = 200_000;
const PER_APPEND = 1_000;

/** Export rate to Parquet (the figure), with the copy into DuckDB and NDJSON beside it. */
export async function exportBenchmarks(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-bench-exports-'));
  const store = createSqliteEventStore({ path: join(dir, 'keel.db'), synchronous: 'normal' });
  try {
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    for (let a = 0; a < TOTAL / PER_APPEND; a++) {
      const events = Array.from({ length: PER_APPEND }, (_, i) => {
        const n = a * PER_APPEND + i;
        return {
          specversion: '1.0' as const,
          id: newEventId(),
          source: 'urn:bench',
          type: n % 10 === 0 ? 'bench.patient.admitted' : 'bench.vitals.recorded',
          time: new Date(t0 + n * 1000).toISOString(),
          subject: `p-${n % 5_000}`,
          datacontenttype: 'application/json',
          data: {
            patientId: `p-${n % 5_000}`,
            ward: `ward-${n % 12}`,
            heartRate: 50 + (n % 90),
            spo2: 90 + (n % 10),
            note: 'ok',
          },
        };
      });
      await store.append(`patient-${a % 200}`, events);
    }
    const history = await openHistory({ store, exportsDir: join(dir, 'exports') });
    try {
      let start = performance.now();
      const loaded = await history.catchUp();
      const loadSeconds = (performance.now() - start) / 1000;
      start = performance.now();
      const parquet = await exportToFile(history, {}, 'parquet', join(dir, 'exports', 'all.parquet'));
      const parquetSeconds = (performance.now() - start) / 1000;
      start = performance.now();
      const ndjson = await exportToFile(history, {}, 'ndjson', join(dir, 'exports', 'all.ndjson'));
      const ndjsonSeconds = (performance.now() - start) / 1000;
      const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
      return [
        {
          name: 'export to Parquet (zstd), store copy in DuckDB',
          value: Math.round(parquet.rows / parquetSeconds),
          unit: 'events/s',
          target: 100_000,
          better: 'higher',
          note: `${parquet.rows} events in ${parquetSeconds.toFixed(2)} s, ${mb(parquet.bytes)} MiB`,
        },
        {
          name: 'export to NDJSON (streamed chunks)',
          value: Math.round(ndjson.rows / ndjsonSeconds),
          unit: 'events/s',
          note: `${ndjson.rows} events in ${ndjsonSeconds.toFixed(2)} s, ${mb(ndjson.bytes)} MiB`,
        },
        {
          name: 'copy of the SQLite store into DuckDB (history catch-up)',
          value: Math.round(loaded / loadSeconds),
          unit: 'events/s',
          note: `${loaded} events in ${loadSeconds.toFixed(2)} s (readAll pages of 1,000, appender)`,
        },
      ];
    } finally {
      history.close();
    }
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
