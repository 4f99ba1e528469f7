import { useCallback, useEffect, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { type ApiProblem, answer, api } from '../api/client';
import { EmptyState } from '../components/empty-state';
import { ImportForm } from '../components/import-form';
import { moveFocusInList } from '../components/key-list';
import { LiveTail } from '../components/live-tail';
import { MessageFilterForm } from '../components/message-filter-form';
import { MessageRow, type MessageSummary } from '../components/message-row';
import { ProblemNotice } from '../components/problem-notice';
import { VirtualList } from '../components/virtual-list';
import { formatCount } from '../lib/format';
import {
  apiQueryOf,
  exportSearch,
  filtersFromSearch,
  type MessageFilters,
  searchOfFilters,
} from '../lib/message-filters';
import { asProblem } from '../lib/use-load';

/** Messages fetched per page. */
const PAGE = 200;
/** Height of one row of the list, in pixels. */
const ROW = 34;

/** A topic's messages, filtered and ordered as the URL says, paged as the reader scrolls; export, import, live tail. */
export function MessagesPage({ topic }: { topic: string }) {
  const location = useLocation();
  const search = location.url.includes('?') ? location.url.slice(location.url.indexOf('?')) : '';
  const filters = filtersFromSearch(search);
  const key = searchOfFilters(filters);
  const [items, setItems] = useState<MessageSummary[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [scanned, setScanned] = useState(0);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<ApiProblem | undefined>();
  const [live, setLive] = useState(false);
  const [round, setRound] = useState(0);

  const fetchPage = useCallback(
    (cursor: string | undefined) =>
      answer(
        api.GET('/v1/topics/{topic}/messages', {
          params: {
            path: { topic },
            query: {
              ...apiQueryOf(filters),
              order: filters.order,
              limit: PAGE,
              ...(filters.from && filters.partition ? { from: filters.from } : {}),
              ...(cursor ? { cursor } : {}),
            },
          },
        }),
      ),
    [topic, key],
  );

  useEffect(() => {
    let current = true;
    setLoading(true);
    setError(undefined);
    fetchPage(undefined).then(
      (page) => {
        if (!current) return;
        setItems(page.items);
        setNext(page.next);
        setScanned(page.scanned);
        setLoading(false);
      },
      (failure: unknown) => {
        if (!current) return;
        setItems([]);
        setNext(null);
        setError(asProblem(failure));
        setLoading(false);
      },
    );
    return () => {
      current = false;
    };
  }, [fetchPage, round]);

  const loadMore = () => {
    if (!next || loading) return;
    setLoading(true);
    fetchPage(next).then(
      (page) => {
        setItems((shown) => [...shown, ...page.items]);
        setNext(page.next);
        setScanned((n) => n + page.scanned);
        setLoading(false);
      },
      (failure: unknown) => {
        setError(asProblem(failure));
        setLoading(false);
      },
    );
  };

  const apply = (nextFilters: MessageFilters) => {
    const query = searchOfFilters(nextFilters);
    location.route(`/topics/${encodeURIComponent(topic)}${query ? `?${query}` : ''}`);
  };
  const exportHref = (format: 'ndjson' | 'csv') =>
    `/v1/topics/${encodeURIComponent(topic)}/export?${exportSearch(filters, { format, ...(filters.from && filters.partition ? { from: filters.from } : {}) })}`;

  return (
    <section aria-labelledby="messages-title">
      <p class="crumbs">
        <a href="/topics">Topics</a> /
      </p>
      <h1 id="messages-title">{topic}</h1>
      <MessageFilterForm key={key} filters={filters} onApply={apply} />
      <div class="toolbar">
        <span class="muted" data-shown>
          {formatCount(items.length)} shown{next ? ', more as you scroll' : ''} · {formatCount(scanned)}{' '}
          records looked at
        </span>
        <a class="button secondary" href={exportHref('ndjson')} download={`${topic}.ndjson`}>
          Export NDJSON
        </a>
        <a class="button secondary" href={exportHref('csv')} download={`${topic}.csv`}>
          Export CSV
        </a>
        <label class="toggle">
          <input type="checkbox" checked={live} onChange={(event) => setLive(event.currentTarget.checked)} />{' '}
          Live tail
        </label>
      </div>
      {live && <LiveTail topic={topic} filters={filters} />}
      {error && <ProblemNotice error={error} />}
      {!loading && !error && items.length === 0 && (
        <EmptyState title={key ? 'No message matches these filters' : 'This topic is empty'}>
          {key ? (
            <>
              Loosen a filter, or clear them.
              {next === null && scanned > 0
                ? ''
                : ' The scan stops at a bound: scroll on or search the whole topic.'}
            </>
          ) : (
            <>
              Publish an event to it (<code>POST /v1/events</code>) or import an export below; turn on the
              live tail to watch them arrive.
            </>
          )}
        </EmptyState>
      )}
      {items.length > 0 && (
        // biome-ignore lint/a11y/noStaticElementInteractions: arrow keys move between the focusable links inside.
        <div onKeyDown={moveFocusInList}>
          <div class="message-row header" aria-hidden="true">
            <span>partition:offset</span>
            <span>appended</span>
            <span>type</span>
            <span>subject / key</span>
            <span class="num">size</span>
          </div>
          <VirtualList
            items={items}
            rowHeight={ROW}
            height={560}
            label="Messages"
            onEnd={loadMore}
            row={(message) => <MessageRow message={message} />}
          />
          {next && (
            <button type="button" class="secondary more" onClick={loadMore} disabled={loading}>
              {loading ? 'Loading…' : 'Load more'}
            </button>
          )}
        </div>
      )}
      <ImportForm topic={topic} onImported={() => setRound((n) => n + 1)} />
    </section>
  );
}
