import type { Answer } from '../api/client';
import { formatTime } from '../lib/format';

type Subscription = Answer<'getSubscription'>;

/** A subscription's state and settings: status, endpoint breaker, in flight, filter and policy. */
export function SubscriptionFacts({ subscription: s }: { subscription: Subscription }) {
  const { filter, policy } = s;
  return (
    <dl class="facts">
      <dt>Status</dt>
      <dd>
        <span class={`badge ${s.status === 'active' ? 'live' : 'pending'}`} data-subscription-status>
          {s.status}
        </span>
        {s.disabledReason && <span data-disabled-reason> — {s.disabledReason}</span>}
      </dd>
      <dt>Endpoint</dt>
      <dd>
        <span class="mono">{s.url}</span> ({s.mode}); breaker <span data-endpoint-state>{s.endpoint}</span>
      </dd>
      <dt>In flight</dt>
      <dd>
        {s.running ? `${s.running.inFlight}, ${s.running.waitingForRetry} waiting to retry` : '—'}
        {s.running?.lastError && ` — last error: ${s.running.lastError.message}`}
      </dd>
      <dt>Events</dt>
      <dd>
        {filter.types?.join(', ') ?? 'every type'}
        {filter.tenant && `, tenant ${filter.tenant}`}
        {filter.source && `, source ${filter.source}`}
        {filter.condition && (
          <>
            , when <code>{filter.condition}</code>
          </>
        )}
      </dd>
      <dt>Policy</dt>
      <dd data-policy>
        {policy.concurrency} in flight, {policy.maxAttempts} attempts, timeout {policy.timeoutMs} ms, order{' '}
        {policy.ordering === 'key' ? 'per key' : 'none'}
        {policy.ratePerSecond === undefined ? ', no rate limit' : `, at most ${policy.ratePerSecond}/s`}
      </dd>
      <dt>Signing secret</dt>
      <dd class="mono">{s.secretHint}</dd>
      <dt>Consumer group</dt>
      <dd>
        <a href={`/groups/${encodeURIComponent(s.group)}`}>{s.group}</a>
      </dd>
      <dt>Created</dt>
      <dd>
        {formatTime(s.createdAt)}, changed {formatTime(s.updatedAt)}
      </dd>
    </dl>
  );
}
