import { z } from 'zod';
import { EVENT_COLUMNS } from '../../analytics/history/history-tables.ts';
import type { LazyHistory } from '../../analytics/history/lazy-history.ts';
import { type ApiRegistry, defineRoute } from '../api/route.ts';

/** Most rows one query may ask for. */
export const MAX_QUERY_ROWS = 10_000;

const querySchema = z.strictObject({
  sql: z.string().min(1).max(100_000).describe('One SELECT statement (DuckDB SQL).'),
  maxRows: z.int().min(1).max(MAX_QUERY_ROWS).default(1000).describe('Most rows returned (1–10 000).'),
  timeoutMs: z
    .int()
    .min(100)
    .max(300_000)
    .default(30_000)
    .describe('Milliseconds before the query is interrupted.'),
});

const answerSchema = z.object({
  columns: z.array(z.object({ name: z.string(), type: z.string().describe('DuckDB type, e.g. `BIGINT`.') })),
  rows: z
    .array(z.array(z.unknown()))
    .describe('Rows as arrays in column order; 64-bit integers and decimals as text, times as ISO text.'),
  truncated: z.boolean().describe('More rows matched than `maxRows`; the rest were not read.'),
  elapsedMs: z.int(),
  loaded: z.int().describe('Events of the store copied into the `events` table so far.'),
});

const TABLE_DOC = EVENT_COLUMNS.map(
  ([name, type, doc]) => `\`${name}\` ${type.replace(' NOT NULL', '')}: ${doc}`,
).join('; ');

/** Registers `POST /v1/query`: read-only SQL over the event store's copy and the exported files. */
export function registerQueryRoute(api: ApiRegistry, history: LazyHistory): void {
  api.add(
    defineRoute({
      method: 'POST',
      url: '/v1/query',
      operationId: 'runQuery',
      summary: 'Run one read-only SQL query (DuckDB) over the event store and exported files',
      description:
        'The table `events` is a columnar copy of the event store, caught up before each query ' +
        `(columns: ${TABLE_DOC}). Files the node exported can be read by their full path ` +
        "(`read_parquet('<exports dir>/x.parquet')`); nothing else on disk can. Only one SELECT runs: " +
        'anything else (INSERT, COPY, ATTACH, SET, PRAGMA, several statements) is refused with 422 naming ' +
        'the rule (`read_only`, `single_statement`); text that does not parse or bind is refused with ' +
        '`syntax` or `invalid` and, when DuckDB says, the `line`, `column` and `offset` where.',
      tag: 'analytics',
      body: querySchema,
      answer: answerSchema,
      problems: [422],
      handler: async ({ body }) => {
        const opened = await history.get();
        const answer = await opened.query(body.sql, { maxRows: body.maxRows, timeoutMs: body.timeoutMs });
        return { ...answer, loaded: (await opened.state()).loaded };
      },
    }),
  );
}
