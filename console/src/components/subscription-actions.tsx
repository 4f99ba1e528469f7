import { useState } from 'preact/hooks';
import { type Answer, type ApiProblem, answer, api } from '../api/client';
import { asProblem } from '../lib/use-load';
import { announce } from '../state/store';
import { ProblemNotice } from './problem-notice';

type Subscription = Answer<'getSubscription'>;

/** Pause (with a reason, kept with the subscription), resume where it stopped, or delete a subscription. */
export function SubscriptionActions({
  subscription,
  onChange,
  onDeleted,
}: {
  subscription: Subscription;
  onChange: () => void;
  onDeleted: () => void;
}) {
  const [reason, setReason] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<ApiProblem | undefined>();
  const path = { name: subscription.name };
  const run = async (work: () => Promise<unknown>, done: string, then: () => void) => {
    setError(undefined);
    try {
      await work();
      announce('success', done);
      then();
    } catch (failure) {
      setError(asProblem(failure));
    }
  };
  const pause = () =>
    run(
      () => answer(api.POST('/v1/subscriptions/{name}/disable', { params: { path }, body: { reason } })),
      `Paused ${subscription.name}.`,
      onChange,
    );
  const resume = () =>
    run(
      () => answer(api.POST('/v1/subscriptions/{name}/enable', { params: { path } })),
      `Resumed ${subscription.name}.`,
      onChange,
    );
  const remove = () =>
    run(
      () => answer(api.DELETE('/v1/subscriptions/{name}', { params: { path } })),
      `Deleted ${subscription.name}.`,
      onDeleted,
    );
  return (
    <div class="actions">
      {subscription.status === 'active' ? (
        <>
          <label>
            <span>Reason to pause</span>
            <input name="pause-reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
          </label>
          <button type="button" disabled={!reason.trim()} onClick={pause}>
            Pause
          </button>
        </>
      ) : (
        <button type="button" onClick={resume}>
          Resume
        </button>
      )}
      {confirming ? (
        <>
          <button type="button" class="danger" onClick={remove}>
            Delete {subscription.name} and its attempts
          </button>
          <button type="button" class="secondary" onClick={() => setConfirming(false)}>
            Keep it
          </button>
        </>
      ) : (
        <button type="button" class="secondary" onClick={() => setConfirming(true)}>
          Delete…
        </button>
      )}
      {error && <ProblemNotice error={error} />}
    </div>
  );
}
