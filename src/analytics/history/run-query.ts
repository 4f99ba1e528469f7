import type { DuckDBConnection, DuckDBResultReader } from '@duckdb/node-api';
import { QueryTimeoutError } from '../errors.ts';
import { assertReadOnly, bindingProblem } from './read-only-query.ts';

/** Bounds of one query. */
export interface QueryLimits {
  /** Most rows returned; the answer says `truncated` when there were more. */
  maxRows: number;
  /** Milliseconds before the query is interrupted. */
  timeoutMs: number;
}

/** A column of an answer: its name and DuckDB type (`BIGINT`, `VARCHAR`, `TIMESTAMP WITH TIME ZONE`, ...). */
export interface QueryColumn {
  name: string;
  type: string;
}

/** What a query answered: its columns, the rows (as JSON values, 64-bit integers as text), and whether rows were left out. */
export interface QueryAnswer {
  columns: QueryColumn[];
  rows: unknown[][];
  truncated: boolean;
  /** Milliseconds from the start of the query to its last row read. */
  elapsedMs: number;
}

/**
 * Checks that `sql` is one SELECT, then runs it, reading no more than `maxRows + 1` rows from DuckDB's
 * stream of results (so a huge answer is never materialized), interrupted after `timeoutMs`.
 * Throws QueryInvalidError (refused, with where and why) or QueryTimeoutError.
 */
export async function runReadOnlyQuery(
  connection: DuckDBConnection,
  sql: string,
  limits: QueryLimits,
): Promise<QueryAnswer> {
  const started = performance.now();
  await assertReadOnly(connection, sql);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    connection.interrupt();
  }, limits.timeoutMs);
  let reader: DuckDBResultReader;
  try {
    reader = await connection.streamAndReadUntil(sql, limits.maxRows + 1);
  } catch (error) {
    if (timedOut) throw new QueryTimeoutError(limits.timeoutMs);
    throw bindingProblem(sql, error);
  } finally {
    clearTimeout(timer);
  }
  const names = reader.deduplicatedColumnNames();
  const types = reader.columnTypes();
  const rows = reader.getRowsJson() as unknown[][];
  return {
    columns: names.map((name, index) => ({ name, type: String(types[index]) })),
    rows: rows.slice(0, limits.maxRows),
    truncated: rows.length > limits.maxRows,
    elapsedMs: Math.round(performance.now() - started),
  };
}
