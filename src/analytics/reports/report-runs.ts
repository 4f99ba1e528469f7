import type { Database } from 'better-sqlite3';
import { openSqlite } from '../../sql/sqlite/open-sqlite.ts';

/** One run of a report, as recorded. */
export interface ReportRun {
  id: number;
  report: string;
  startedAt: string;
  finishedAt: string | null;
  status: 'running' | 'succeeded' | 'failed';
  /** Rows the result held; null before it was computed. */
  rows: number | null;
  /** Delivery attempts made. */
  attempts: number;
  /** Why it failed (the last attempt's error); null otherwise. */
  error: string | null;
}

/** Where runs are recorded: a SQLite file. */
export interface ReportRuns {
  start(report: string): number;
  finish(
    id: number,
    outcome: { status: 'succeeded' | 'failed'; rows: number | null; attempts: number; error?: string },
  ): void;
  /** Runs newest first, of one report or of all. */
  list(report?: string, limit?: number): ReportRun[];
  close(): void;
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS keel_report_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT, report TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT,
  status TEXT NOT NULL, rows INTEGER, attempts INTEGER NOT NULL DEFAULT 0, error TEXT)`;

/** Opens (creating) the run records in `path`. */
export function openReportRuns(path: string): ReportRuns {
  const db: Database = openSqlite({ path, synchronous: 'normal', prepare: (d) => d.exec(SCHEMA) });
  const insert = db.prepare(
    `INSERT INTO keel_report_runs (report, started_at, status) VALUES (?, ?, 'running')`,
  );
  const update = db.prepare(
    'UPDATE keel_report_runs SET finished_at = ?, status = ?, rows = ?, attempts = ?, error = ? WHERE id = ?',
  );
  const columns =
    'id, report, started_at AS startedAt, finished_at AS finishedAt, status, rows, attempts, error';
  return {
    start: (report) => Number(insert.run(report, new Date().toISOString()).lastInsertRowid),
    finish(id, outcome) {
      update.run(
        new Date().toISOString(),
        outcome.status,
        outcome.rows,
        outcome.attempts,
        outcome.error ?? null,
        id,
      );
    },
    list(report, limit = 100) {
      const where = report === undefined ? '' : 'WHERE report = ?';
      const params = report === undefined ? [limit] : [report, limit];
      return db
        .prepare(`SELECT ${columns} FROM keel_report_runs ${where} ORDER BY id DESC LIMIT ?`)
        .all(...params) as ReportRun[];
    },
    close: () => db.close(),
  };
}
