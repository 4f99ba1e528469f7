import type { TextSink } from '../gated-stream.ts';

/** How a command prints: aligned columns for people, JSON for scripts. */
export type OutputFormat = 'table' | 'json';

/** The formats `--output` accepts. */
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'json'];

/** One column of a table: its header and how a row shows in it. */
export interface Column<Row> {
  header: string;
  value: (row: Row) => string | number | bigint | boolean | null | undefined;
  /** Right-aligned (numbers). */
  numeric?: boolean;
}

/** Rows as aligned columns under upper-case headers, kubectl style; `empty` when there are none. */
export function formatTable<Row>(
  rows: readonly Row[],
  columns: readonly Column<Row>[],
  empty: string,
): string {
  if (rows.length === 0) return `${empty}\n`;
  const cells = rows.map((row) => columns.map((column) => String(column.value(row) ?? '-')));
  const headers = columns.map((column) => column.header.toUpperCase());
  const widths = headers.map((header, i) => Math.max(header.length, ...cells.map((line) => line[i]!.length)));
  const line = (values: readonly string[]) =>
    values
      .map((value, i) => (columns[i]!.numeric ? value.padStart(widths[i]!) : value.padEnd(widths[i]!)))
      .join('   ')
      .trimEnd();
  return `${[line(headers), ...cells.map(line)].join('\n')}\n`;
}

/** Name/value lines for one object, aligned. */
export function formatFields(fields: ReadonlyArray<[string, unknown]>): string {
  const width = Math.max(...fields.map(([name]) => name.length));
  return `${fields.map(([name, value]) => `${`${name}:`.padEnd(width + 2)}${value ?? '-'}`).join('\n')}\n`;
}

/** Writes `value` as indented JSON, or `table()` for people. */
export function print(out: TextSink, format: OutputFormat, value: unknown, table: () => string): void {
  out.write(format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : table());
}
