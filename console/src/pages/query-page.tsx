import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { type Answer, answer, api } from '../api/client';
import { EmptyState } from '../components/empty-state';
import { Loading } from '../components/loading';
import { ProblemNotice } from '../components/problem-notice';
import { useLoad } from '../lib/use-load';

type QueryAnswer = Answer<'runQuery'>;

/** What a first query looks like: events per type. */
const EXAMPLE =
  'SELECT type, count(*) AS events, max(recorded_at) AS latest\nFROM events\nGROUP BY type\nORDER BY events DESC';

/** SQL over the event store (the `events` table) and exported files; the query is in the URL (`?sql=`). */
export function QueryPage() {
  const location = useLocation();
  const sql = location.query.sql ?? '';
  const result = useLoad(
    async (): Promise<QueryAnswer | undefined> =>
      sql.trim() ? answer(api.POST('/v1/query', { body: { sql, maxRows: 1000 } })) : undefined,
    [sql],
  );
  return (
    <section aria-labelledby="query-title">
      <h1 id="query-title">Query</h1>
      <QueryForm
        key={sql}
        sql={sql || EXAMPLE}
        onRun={(next) => location.route(`/query?${new URLSearchParams({ sql: next })}`)}
      />
      {result.error && <ProblemNotice error={result.error} />}
      {!sql.trim() && (
        <EmptyState title="Ask the event store">
          One read-only SELECT in DuckDB SQL. The table <code>events</code> holds every stored event:{' '}
          <code>
            position, stream_id, version, tenant, recorded_at, id, type, source, subject, time,
            correlation_id, causation_id, data
          </code>{' '}
          (JSON: <code>data-&gt;&gt;'field'</code>). Exported files are read by their path, e.g.{' '}
          <code>read_parquet('…/exports/x.parquet')</code>.
        </EmptyState>
      )}
      {sql.trim() && result.loading && !result.data && <Loading what="the answer" />}
      {result.data && !result.error && <ResultTable answer={result.data} />}
    </section>
  );
}

/** The SQL box; Run (or Ctrl+Enter) puts the query in the URL, which runs it. */
function QueryForm({ sql, onRun }: { sql: string; onRun: (sql: string) => void }) {
  const [text, setText] = useState(sql);
  const run = () => {
    if (text.trim()) onRun(text);
  };
  return (
    <form
      class="filters"
      aria-label="Query"
      onSubmit={(event) => {
        event.preventDefault();
        run();
      }}
    >
      <label class="wide">
        <span>SQL (one SELECT; Ctrl+Enter runs it)</span>
        <textarea
          name="sql"
          rows={6}
          class="mono"
          spellcheck={false}
          value={text}
          onInput={(event) => setText(event.currentTarget.value)}
          onKeyDown={(event) => {
            if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
              event.preventDefault();
              run();
            }
          }}
        />
      </label>
      <button type="submit">Run</button>
    </form>
  );
}

/** The rows under their column names (the DuckDB type in each header's title). */
function ResultTable({ answer: result }: { answer: QueryAnswer }) {
  const count = result.rows.length;
  return (
    <>
      <p data-query-summary>
        <strong data-query-rows>{count}</strong> row{count === 1 ? '' : 's'} in {result.elapsedMs} ms over{' '}
        {result.loaded} stored events.
        {result.truncated && (
          <span class="warn-text"> More rows matched: only the first {count} are shown.</span>
        )}
      </p>
      <div class="scroll-x">
        <table class="table" data-query-result>
          <caption class="sr-only">Query result</caption>
          <thead>
            <tr>
              {result.columns.map((column) => (
                <th key={column.name} scope="col" title={column.type}>
                  {column.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {result.rows.map((row, index) => (
              <tr key={index}>
                {row.map((value, column) => (
                  <td key={column} class="mono">
                    {cellText(value)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '∅';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
