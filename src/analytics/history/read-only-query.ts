import { type DuckDBConnection, StatementType } from '@duckdb/node-api';
import { QueryInvalidError, type QueryPosition } from '../errors.ts';

/** What DuckDB's `json_serialize_sql` answers: the parsed statements, or why it could not parse them. */
interface SerializedSql {
  error: boolean;
  error_type?: string;
  error_message?: string;
  position?: string;
  statements?: unknown[];
}

/** 1-based line and column of a 0-based character offset in `text`. */
export function positionIn(text: string, offset: number): QueryPosition {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1, offset };
}

/**
 * Refuses anything but one SELECT, as DuckDB's own parser and planner see it, before anything runs:
 * `json_serialize_sql` parses the text without binding (and serializes only SELECT statements: anything else,
 * PRAGMA and CALL included, is refused), then the prepared statement's kind must be SELECT. Throws
 * QueryInvalidError naming the rule broken and where.
 */
export async function assertReadOnly(connection: DuckDBConnection, sql: string): Promise<void> {
  const reader = await connection.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR)::VARCHAR AS parsed', [
    sql,
  ]);
  const parsed = JSON.parse(String(reader.getRows()[0]?.[0])) as SerializedSql;
  if (parsed.error) {
    const offset = parsed.position === undefined ? undefined : Number(parsed.position);
    if (parsed.error_type === 'parser') {
      throw new QueryInvalidError(
        'syntax',
        `the query does not parse: ${parsed.error_message ?? 'syntax error'}`,
        offset === undefined ? undefined : positionIn(sql, offset),
      );
    }
    throw new QueryInvalidError(
      'read_only',
      'only a SELECT may run: a query cannot write or change settings',
    );
  }
  const count = parsed.statements?.length ?? 0;
  if (count !== 1) {
    throw new QueryInvalidError('single_statement', `expected exactly one SELECT statement, found ${count}`);
  }
  const prepared = await connection.prepare(sql).catch((error: unknown) => {
    throw bindingProblem(sql, error);
  });
  try {
    if (prepared.statementType !== StatementType.SELECT) {
      throw new QueryInvalidError(
        'read_only',
        `only a SELECT may run, this is ${StatementType[prepared.statementType]}`,
      );
    }
  } finally {
    prepared.destroySync();
  }
}

/**
 * DuckDB's refusal of a query that parses but cannot be planned (an unknown table or column, a type
 * mismatch), with where it points when it says: its message ends with `LINE n: <text>` and a caret.
 */
export function bindingProblem(sql: string, error: unknown): QueryInvalidError {
  const message = error instanceof Error ? error.message : String(error);
  const [first = message] = message.split('\n\n');
  const located = /LINE (\d+): (.*)\n( *)\^/.exec(message);
  let position: QueryPosition | undefined;
  if (located) {
    const line = Number(located[1]);
    const shown = located[2] ?? '';
    const column = (located[3]?.length ?? 0) - `LINE ${line}: `.length + 1;
    const lineText = sql.split('\n')[line - 1] ?? '';
    // DuckDB shows a window of long lines: find the shown text to turn its column into one of the line.
    const start = Math.max(0, lineText.indexOf(shown.replace(/^\.\.\./, '').replace(/\.\.\.$/, '')));
    const col = start + column - (shown.startsWith('...') ? 3 : 0);
    const offset =
      sql
        .split('\n')
        .slice(0, line - 1)
        .join('\n').length +
      (line > 1 ? 1 : 0) +
      col -
      1;
    position = { line, column: col, offset };
  }
  return new QueryInvalidError('invalid', first.trim(), position);
}
