import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { formatTable, print } from './output.ts';
import { type RemoteFlags, remoteOptions, runRemote } from './remote-command.ts';
import { CliUsageError } from './usage-error.ts';

/** The node's answer to `POST /v1/query`. */
interface QueryAnswer {
  columns: Array<{ name: string; type: string }>;
  rows: unknown[][];
  truncated: boolean;
  elapsedMs: number;
  loaded: number;
}

type QueryFlags = RemoteFlags & { file?: string; maxRows?: string; timeoutMs?: string };

/** The answer's rows under their column names; JSON values (structs, lists) as compact JSON. */
export function queryText(answer: QueryAnswer): string {
  const columns = answer.columns.map((column, index) => ({
    header: column.name,
    numeric: /INT|DOUBLE|FLOAT|DECIMAL|REAL/.test(column.type),
    value: (row: unknown[]) => {
      const value = row[index];
      return value !== null && typeof value === 'object' ? JSON.stringify(value) : (value as string);
    },
  }));
  const table = formatTable(answer.rows, columns, '(no rows)');
  const more = answer.truncated ? ` (more rows matched: raise --max-rows)` : '';
  return `${table}${answer.rows.length} row${answer.rows.length === 1 ? '' : 's'} in ${answer.elapsedMs} ms${more}\n`;
}

/** Adds `keel query "<sql>"`: one read-only SELECT over the node's event store and exported files. */
export function registerQueryCommand(program: Command): void {
  remoteOptions(
    program
      .command('query [sql]')
      .description(
        'run one read-only SQL SELECT (DuckDB) over the event store (table `events`) and exported files',
      )
      .option('-f, --file <file>', 'read the query from a file instead')
      .option('--max-rows <n>', 'most rows returned (default 1000, at most 10000)')
      .option('--timeout-ms <ms>', 'interrupt the query after this long (default 30000)'),
  ).action((sql: string | undefined, flags: QueryFlags) =>
    runRemote(flags, async ({ client, format, stdout }) => {
      if ((sql === undefined) === (flags.file === undefined)) {
        throw new CliUsageError('give the query as an argument, or with --file');
      }
      const text = sql ?? readFileSync(flags.file as string, 'utf8');
      const answer = await client.json<QueryAnswer>('POST', '/v1/query', {
        body: {
          sql: text,
          ...(flags.maxRows === undefined ? {} : { maxRows: integer(flags.maxRows, '--max-rows') }),
          ...(flags.timeoutMs === undefined ? {} : { timeoutMs: integer(flags.timeoutMs, '--timeout-ms') }),
        },
      });
      print(stdout, format, answer, () => queryText(answer));
      return undefined;
    }),
  );
}

function integer(text: string, flag: string): number {
  if (!/^\d+$/.test(text))
    throw new CliUsageError(`${flag} expects a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}
