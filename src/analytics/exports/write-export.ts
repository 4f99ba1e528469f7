import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { History } from '../history/history.ts';
import { EVENT_COLUMNS } from '../history/history-tables.ts';
import { type ExportFormat, type ExportSelection, selectionQuery, sqlText } from './export-selection.ts';

/** What an export wrote. */
export interface ExportResult {
  /** Rows (events) written. */
  rows: number;
  /** Size of the file, in bytes. */
  bytes: number;
}

/**
 * The selection as NDJSON lines (each row an object, `data` nested) or CSV (a header row, then one row per
 * event, CRLF), read from DuckDB one chunk (about 2,048 rows) at a time: the text of one chunk is the most it
 * holds, whatever the selection's size. Catches up first. The connection closes when the generator ends.
 */
export async function* exportText(
  history: History,
  selection: ExportSelection,
  format: 'ndjson' | 'csv',
): AsyncGenerator<string> {
  for await (const chunk of exportChunks(history, selection, format)) yield chunk.text;
}

/** `exportText`'s pieces with the rows each holds (the CSV header holds none). */
async function* exportChunks(
  history: History,
  selection: ExportSelection,
  format: 'ndjson' | 'csv',
): AsyncGenerator<{ text: string; rows: number }> {
  await history.catchUp();
  const connection = await history.connect();
  try {
    const inner = selectionQuery(selection, 'text');
    const sql =
      format === 'ndjson'
        ? `SELECT to_json(t)::VARCHAR FROM (${inner}) t`
        : `SELECT ${EVENT_COLUMNS.map(([name]) => `"${name}"::VARCHAR`).join(', ')} FROM (${inner}) t`;
    if (format === 'csv') yield { text: `${EVENT_COLUMNS.map(([name]) => name).join(',')}\r\n`, rows: 0 };
    const result = await connection.stream(sql);
    for (
      let chunk = await result.fetchChunk();
      chunk && chunk.rowCount > 0;
      chunk = await result.fetchChunk()
    ) {
      const text =
        format === 'ndjson'
          ? `${chunk.getColumnValues(0).join('\n')}\n`
          : chunk
              .getRows()
              .map((row) => `${row.map(csvCell).join(',')}\r\n`)
              .join('');
      yield { text, rows: chunk.rowCount };
    }
  } finally {
    connection.closeSync();
  }
}

/**
 * Writes the selection to `file`: Parquet by DuckDB's `COPY ... TO` (row groups written as they fill, zstd),
 * NDJSON and CSV from `exportText` through a file stream. `file` must be inside the history's exports folder
 * (the only place DuckDB may write). Catches up first.
 */
export async function exportToFile(
  history: History,
  selection: ExportSelection,
  format: ExportFormat,
  file: string,
): Promise<ExportResult> {
  if (format !== 'parquet') {
    let rows = 0;
    const counted = async function* () {
      for await (const chunk of exportChunks(history, selection, format)) {
        rows += chunk.rows;
        yield chunk.text;
      }
    };
    await pipeline(Readable.from(counted()), createWriteStream(file));
    return { rows, bytes: (await stat(file)).size };
  }
  await history.catchUp();
  const connection = await history.connect();
  try {
    const rows = await copyParquet(connection, selectionQuery(selection, 'typed'), file);
    return { rows, bytes: (await stat(file)).size };
  } finally {
    connection.closeSync();
  }
}

async function copyParquet(connection: DuckDBConnection, sql: string, file: string): Promise<number> {
  const reader = await connection.runAndReadAll(
    `COPY (${sql}) TO ${sqlText(file)} (FORMAT parquet, COMPRESSION zstd)`,
  );
  return Number(reader.getRows()[0]?.[0] ?? 0);
}

/**
 * One CSV cell: quoted when it holds a comma, quote or line break; text a spreadsheet would run as a formula
 * (starting with `=`, `+`, `-`, `@`, tab or CR) is prefixed with `'` (OWASP's advice against CSV injection).
 */
function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
