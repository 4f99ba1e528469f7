import { answer, api } from '../api/client';
import { EmptyState } from '../components/empty-state';
import { moveFocusInList } from '../components/key-list';
import { Loading } from '../components/loading';
import { ProblemNotice } from '../components/problem-notice';
import { formatCount } from '../lib/format';
import { useLoad } from '../lib/use-load';

/** Every consumer group: live or not, members, the topics it reads and how far behind it is. */
export function GroupsPage() {
  const groups = useLoad(() => answer(api.GET('/v1/groups', { params: { query: { limit: 500 } } })), []);
  return (
    <section aria-labelledby="groups-title">
      <h1 id="groups-title">Consumer groups</h1>
      {groups.error && <ProblemNotice error={groups.error} />}
      {groups.loading && !groups.data && <Loading what="consumer groups" />}
      {groups.data && groups.data.items.length === 0 && (
        <EmptyState title="No consumer groups yet">
          A group appears once a router (<code>createRouter</code> with a <code>group</code>) consumes from a
          topic of this node and commits its first offset.
        </EmptyState>
      )}
      {groups.data && groups.data.items.length > 0 && (
        <table class="table">
          <caption class="sr-only">Consumer groups</caption>
          <thead>
            <tr>
              <th scope="col">Group</th>
              <th scope="col">State</th>
              <th scope="col" class="num">
                Members
              </th>
              <th scope="col">Topics</th>
              <th scope="col" class="num">
                Lag
              </th>
            </tr>
          </thead>
          <tbody onKeyDown={moveFocusInList}>
            {groups.data.items.map((group) => (
              <tr key={group.group}>
                <td>
                  <a data-row-link href={`/groups/${encodeURIComponent(group.group)}`}>
                    {group.group}
                  </a>
                </td>
                <td>
                  <span class={`badge ${group.live ? 'live' : ''}`}>{group.state}</span>
                </td>
                <td class="num">{group.members}</td>
                <td>{group.topics.join(', ')}</td>
                <td class="num" data-group-lag={group.group}>
                  {formatCount(group.lag.total)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
