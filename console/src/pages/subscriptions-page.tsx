import { answer, api } from '../api/client';
import { EmptyState } from '../components/empty-state';
import { moveFocusInList } from '../components/key-list';
import { Loading } from '../components/loading';
import { ProblemNotice } from '../components/problem-notice';
import { SubscriptionForm } from '../components/subscription-form';
import { useLoad } from '../lib/use-load';

/** Push subscriptions with their state (status, endpoint breaker, in flight); a form creates one. */
export function SubscriptionsPage() {
  const loaded = useLoad(() => answer(api.GET('/v1/subscriptions')), []);
  const items = loaded.data?.items;
  return (
    <section aria-labelledby="subscriptions-title">
      <h1 id="subscriptions-title">Subscriptions</h1>
      {loaded.error && <ProblemNotice error={loaded.error} />}
      {loaded.loading && !items && <Loading what="subscriptions" />}
      {items && items.length === 0 && (
        <EmptyState title="No subscriptions yet">
          A subscription POSTs the events it matches to an HTTP endpoint, signed, at least once and in order
          per key. Create one below.
        </EmptyState>
      )}
      {items && items.length > 0 && (
        <table class="table">
          <caption class="sr-only">Push subscriptions</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">Endpoint breaker</th>
              <th scope="col" class="num">
                In flight
              </th>
              <th scope="col">URL</th>
            </tr>
          </thead>
          <tbody onKeyDown={moveFocusInList}>
            {items.map((s) => (
              <tr key={s.name} data-subscription={s.name}>
                <td>
                  <a data-row-link href={`/subscriptions/${encodeURIComponent(s.name)}`}>
                    {s.name}
                  </a>
                </td>
                <td>
                  <span class={`badge ${s.status === 'active' ? 'live' : 'pending'}`}>{s.status}</span>
                  {s.disabledReason && <span class="muted"> {s.disabledReason}</span>}
                </td>
                <td>{s.endpoint}</td>
                <td class="num">{s.running?.inFlight ?? '—'}</td>
                <td class="mono">{s.url}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <SubscriptionForm onCreated={loaded.reload} />
    </section>
  );
}
