import { answer, api } from '../api/client';
import { EmptyState } from '../components/empty-state';
import { moveFocusInList } from '../components/key-list';
import { Loading } from '../components/loading';
import { ProblemNotice } from '../components/problem-notice';
import { formatBytes, formatCount, formatMillis } from '../lib/format';
import { useLoad } from '../lib/use-load';

/** Every topic with partitions, messages held, the lag of the groups on it and its retention. */
export function TopicsPage() {
  const topics = useLoad(() => answer(api.GET('/v1/topics', { params: { query: { limit: 500 } } })), []);
  return (
    <section aria-labelledby="topics-title">
      <h1 id="topics-title">Topics</h1>
      {topics.error && <ProblemNotice error={topics.error} />}
      {topics.loading && !topics.data && <Loading what="topics" />}
      {topics.data && topics.data.items.length === 0 && (
        <EmptyState title="No topics yet">
          Topics come from the catalog the node starts with (<code>KEEL_CATALOG</code>); publish an event with{' '}
          <code>POST /v1/events</code> and it appears here.
        </EmptyState>
      )}
      {topics.data && topics.data.items.length > 0 && (
        <table class="table">
          <caption class="sr-only">Topics</caption>
          <thead>
            <tr>
              <th scope="col">Topic</th>
              <th scope="col" class="num">
                Partitions
              </th>
              <th scope="col" class="num">
                Messages
              </th>
              <th scope="col" class="num">
                Size
              </th>
              <th scope="col" class="num">
                Lag
              </th>
              <th scope="col">Retention</th>
              <th scope="col">Compacted</th>
            </tr>
          </thead>
          <tbody onKeyDown={moveFocusInList}>
            {topics.data.items.map((topic) => (
              <tr key={topic.name}>
                <td>
                  <a data-row-link href={`/topics/${encodeURIComponent(topic.name)}`}>
                    {topic.name}
                  </a>
                </td>
                <td class="num">{topic.partitions}</td>
                <td class="num" data-topic-messages={topic.name}>
                  {formatCount(topic.messages)}
                </td>
                <td class="num">{formatBytes(topic.bytes)}</td>
                <td class="num" data-topic-lag={topic.name}>
                  {formatCount(topic.lag)}
                </td>
                <td>
                  {topic.config.retentionMs === null ? 'forever' : formatRetention(topic.config.retentionMs)}
                </td>
                <td>{topic.config.compacted ? 'yes' : 'no'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function formatRetention(ms: number): string {
  const days = ms / 86_400_000;
  return days >= 1 ? `${Number(days.toFixed(1))} d` : formatMillis(ms);
}
