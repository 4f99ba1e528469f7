import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { EmptyState } from '../components/empty-state';
import { ExportLinks } from '../components/export-links';
import { ImportForm } from '../components/import-form';
import { moveFocusInList } from '../components/key-list';
import { LiveTail } from '../components/live-tail';
import { MessageFilterForm } from '../components/message-filter-form';
import { MessageRow } from '../components/message-row';
import { ProblemNotice } from '../components/problem-notice';
import { TopicSearch } from '../components/topic-search';
import { TopicSummary } from '../components/topic-summary';
import { VirtualList } from '../components/virtual-list';
import { formatCount } from '../lib/format';
import { filtersFromSearch, type MessageFilters, searchOfFilters } from '../lib/message-filters';
import { useMessagePages } from '../lib/use-message-pages';

/** Height of one row of the list, in pixels. */
const ROW = 34;

/** A topic's messages, filtered and ordered as the URL says, paged as the reader scrolls; export, import, live tail. */
export function MessagesPage({ topic }: { topic: string }) {
  const location = useLocation();
  const search = location.url.includes('?') ? location.url.slice(location.url.indexOf('?')) : '';
  const filters = filtersFromSearch(search);
  const key = searchOfFilters(filters);
  const { items, next, scanned, loading, error, loadMore, reload } = useMessagePages(topic, filters);
  const [live, setLive] = useState(false);

  const apply = (nextFilters: MessageFilters) => {
    const query = searchOfFilters(nextFilters);
    location.route(`/topics/${encodeURIComponent(topic)}${query ? `?${query}` : ''}`);
  };
  return (
    <section aria-labelledby="messages-title">
      <p class="crumbs">
        <a href="/topics">Topics</a> /
      </p>
      <h1 id="messages-title">{topic}</h1>
      <TopicSummary topic={topic} />
      <MessageFilterForm key={key} filters={filters} onApply={apply} />
      <TopicSearch key={key} topic={topic} filters={filters} />
      <div class="toolbar">
        <span class="muted" data-shown>
          {formatCount(items.length)} shown{next ? ', more as you scroll' : ''} · {formatCount(scanned)}{' '}
          records looked at
        </span>
        <ExportLinks topic={topic} filters={filters} />
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
              {next === null ? '' : ' The node stops looking after a bound: look further to go on.'}
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
        </div>
      )}
      {next && (
        <button type="button" class="secondary more" onClick={loadMore} disabled={loading}>
          {loading ? 'Loading…' : items.length === 0 ? 'Look further' : 'Load more'}
        </button>
      )}
      <ImportForm topic={topic} onImported={reload} />
    </section>
  );
}
