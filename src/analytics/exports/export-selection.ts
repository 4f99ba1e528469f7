import { z } from 'zod';
import { EVENT_COLUMNS } from '../history/history-tables.ts';

/** Which stored events an export takes; every given criterion must hold. */
export const exportSelectionSchema = z.strictObject({
  /** CloudEvents types (any of them). */
  types: z.array(z.string().min(1)).min(1).optional(),
  /** Owning tenant. */
  tenant: z.string().min(1).optional(),
  /** The `correlationid` extension. */
  correlationId: z.string().min(1).optional(),
  /** Streams whose id starts with this text. */
  streamPrefix: z.string().min(1).optional(),
  /** Recorded at or after this ISO time. */
  since: z.iso.datetime({ offset: true }).optional(),
  /** Recorded before this ISO time. */
  until: z.iso.datetime({ offset: true }).optional(),
});

/** A selection of stored events, as `exportSelectionSchema` parses it. */
export type ExportSelection = z.output<typeof exportSelectionSchema>;

/** The formats an export writes. */
export const EXPORT_FORMATS = ['ndjson', 'csv', 'parquet'] as const;

/** An export's format: NDJSON (one row object per line), CSV (a header row) or Parquet. */
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** A SQL string literal: DuckDB reads backslashes literally, so doubling quotes is the whole escape. */
export function sqlText(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** The WHERE clause of a selection over `events` (`TRUE` for everything); values are validated literals. */
export function selectionWhere(selection: ExportSelection): string {
  const conditions: string[] = [];
  if (selection.types) conditions.push(`type IN (${selection.types.map(sqlText).join(', ')})`);
  if (selection.tenant) conditions.push(`tenant = ${sqlText(selection.tenant)}`);
  if (selection.correlationId) conditions.push(`correlation_id = ${sqlText(selection.correlationId)}`);
  if (selection.streamPrefix) conditions.push(`starts_with(stream_id, ${sqlText(selection.streamPrefix)})`);
  if (selection.since) conditions.push(`recorded_at >= ${sqlText(selection.since)}::TIMESTAMPTZ`);
  if (selection.until) conditions.push(`recorded_at < ${sqlText(selection.until)}::TIMESTAMPTZ`);
  return conditions.length === 0 ? 'TRUE' : conditions.join(' AND ');
}

const ISO = `'%Y-%m-%dT%H:%M:%S.%gZ'`;

/**
 * The selected rows in position order. `typed`: DuckDB's own types (Parquet keeps them); `text`: times as
 * ISO text in UTC, for NDJSON and CSV.
 */
export function selectionQuery(selection: ExportSelection, columns: 'typed' | 'text'): string {
  const names = EVENT_COLUMNS.map(([name]) => name);
  const list =
    columns === 'typed'
      ? names.map((name) => `"${name}"`)
      : names.map((name) =>
          name === 'recorded_at' || name === 'time'
            ? `strftime("${name}" AT TIME ZONE 'UTC', ${ISO}) AS "${name}"`
            : `"${name}"`,
        );
  return `SELECT ${list.join(', ')} FROM events WHERE ${selectionWhere(selection)} ORDER BY position`;
}
