import { useEffect } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { answer, api } from '../api/client';
import { DeliveryAttempts } from '../components/delivery-attempts';
import { Loading } from '../components/loading';
import { ProblemNotice } from '../components/problem-notice';
import { ReplayRangeForm } from '../components/replay-range-form';
import { SubscriptionActions } from '../components/subscription-actions';
import { SubscriptionDeadLetters } from '../components/subscription-dead-letters';
import { SubscriptionFacts } from '../components/subscription-facts';
import { useLoad } from '../lib/use-load';

/** Attempts shown, newest first. */
const ATTEMPTS = 50;
/** How often the page reads the subscription again while it is open. */
const REFRESH_MS = 2_000;

/**
 * One subscription: its state and settings, pause / resume / delete, its recent attempts, its dead letters
 * with retry and discard, and a re-delivery of a time range; read again every two seconds.
 */
export function SubscriptionPage({ name }: { name: string }) {
  const { route } = useLocation();
  const loaded = useLoad(async () => {
    const path = { name };
    const subscription = await answer(api.GET('/v1/subscriptions/{name}', { params: { path } }));
    const [attempts, deadLetters] = await Promise.all([
      answer(api.GET('/v1/subscriptions/{name}/attempts', { params: { path, query: { limit: ATTEMPTS } } })),
      answer(
        api.GET('/v1/groups/{group}/dead-letters', {
          params: { path: { group: subscription.group }, query: { status: 'pending', limit: 200 } },
        }),
      ),
    ]);
    return { subscription, attempts: attempts.items, deadLetters: deadLetters.items };
  }, [name]);
  useEffect(() => {
    const timer = setInterval(loaded.reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [loaded.reload]);
  const data = loaded.data;
  return (
    <section aria-labelledby="subscription-title">
      <p class="crumbs">
        <a href="/subscriptions">Subscriptions</a> /
      </p>
      <h1 id="subscription-title">Subscription {name}</h1>
      {loaded.error && <ProblemNotice error={loaded.error} />}
      {loaded.loading && !data && <Loading what="the subscription" />}
      {data && (
        <>
          <SubscriptionFacts subscription={data.subscription} />
          <SubscriptionActions
            subscription={data.subscription}
            onChange={loaded.reload}
            onDeleted={() => route('/subscriptions')}
          />
          <h2>Recent attempts</h2>
          <DeliveryAttempts attempts={data.attempts} />
          <h2>Dead letters</h2>
          <SubscriptionDeadLetters
            group={data.subscription.group}
            entries={data.deadLetters}
            onChange={loaded.reload}
          />
          <ReplayRangeForm name={name} onEnd={loaded.reload} />
        </>
      )}
    </section>
  );
}
