import { answer, api } from '../api/client';
import { EmptyState } from '../components/empty-state';
import { moveFocusInList } from '../components/key-list';
import { Loading } from '../components/loading';
import { ProblemNotice } from '../components/problem-notice';
import { formatCount } from '../lib/format';
import { useLoad } from '../lib/use-load';

/** Each consumer group has its own dead-letter queue: the groups with what waits in each. */
export function DeadLetterGroupsPage() {
  const loaded = useLoad(async () => {
    const groups = await answer(api.GET('/v1/groups', { params: { query: { limit: 500 } } }));
    return Promise.all(
      groups.items.map(async (group) => {
        const summary = await answer(
          api.GET('/v1/groups/{group}/dead-letters/summary', {
            params: { path: { group: group.group }, query: { status: 'pending' } },
          }),
        );
        return { group: group.group, pending: summary.total, kinds: summary.groups.length };
      }),
    );
  }, []);
  return (
    <section aria-labelledby="dlq-title">
      <h1 id="dlq-title">Dead letters</h1>
      {loaded.error && <ProblemNotice error={loaded.error} />}
      {loaded.loading && !loaded.data && <Loading what="dead letters" />}
      {loaded.data && loaded.data.length === 0 && (
        <EmptyState title="No consumer groups, so no dead letters">
          Dead letters are kept per consumer group: once a router's handler gives up on an event, it is listed
          here.
        </EmptyState>
      )}
      {loaded.data && loaded.data.length > 0 && (
        <table class="table">
          <caption class="sr-only">Dead letters per consumer group</caption>
          <thead>
            <tr>
              <th scope="col">Group</th>
              <th scope="col" class="num">
                Pending
              </th>
              <th scope="col" class="num">
                Kinds of failure
              </th>
            </tr>
          </thead>
          <tbody onKeyDown={moveFocusInList}>
            {loaded.data.map((row) => (
              <tr key={row.group}>
                <td>
                  <a data-row-link href={`/dead-letters/${encodeURIComponent(row.group)}`}>
                    {row.group}
                  </a>
                </td>
                <td class="num" data-dlq-pending={row.group}>
                  {formatCount(row.pending)}
                </td>
                <td class="num">{row.kinds}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
