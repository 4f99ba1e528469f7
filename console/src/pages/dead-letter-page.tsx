import { useState } from 'preact/hooks';
import { type ApiProblem, answer, api } from '../api/client';
import { JsonView } from '../components/json-view';
import { Loading } from '../components/loading';
import { ParkedChain } from '../components/parked-chain';
import { ProblemNotice } from '../components/problem-notice';
import { formatTime } from '../lib/format';
import { asProblem, useLoad } from '../lib/use-load';
import { announce } from '../state/store';

/** One dead letter: the failure and its stack, the event, what was done with it; retry or discard it. */
export function DeadLetterPage({ group, id }: { group: string; id: string }) {
  const loaded = useLoad(
    () => answer(api.GET('/v1/groups/{group}/dead-letters/{id}', { params: { path: { group, id } } })),
    [group, id],
  );
  const [reason, setReason] = useState('');
  const [error, setError] = useState<ApiProblem | undefined>();
  const act = async (action: 'retry' | 'discard') => {
    setError(undefined);
    try {
      const path = { group, id };
      if (action === 'retry')
        await answer(api.POST('/v1/groups/{group}/dead-letters/{id}/retry', { params: { path } }));
      else
        await answer(
          api.POST('/v1/groups/{group}/dead-letters/{id}/discard', { params: { path }, body: { reason } }),
        );
      announce('success', action === 'retry' ? `Sent ${id} back to its topic.` : `Discarded ${id}.`);
      loaded.reload();
    } catch (failure) {
      setError(asProblem(failure));
    }
  };
  const entry = loaded.data;
  return (
    <section aria-labelledby="dead-letter-title">
      <p class="crumbs">
        <a href="/dead-letters">Dead letters</a> /{' '}
        <a href={`/dead-letters/${encodeURIComponent(group)}`}>{group}</a> /
      </p>
      <h1 id="dead-letter-title">Dead letter {id}</h1>
      {loaded.error && <ProblemNotice error={loaded.error} />}
      {loaded.loading && !entry && <Loading what="the dead letter" />}
      {entry && (
        <>
          <dl class="facts">
            <dt>Status</dt>
            <dd>
              <span class={`badge ${entry.status}`} data-dead-letter-status>
                {entry.status}
              </span>
            </dd>
            <dt>Error</dt>
            <dd>
              <span class="mono">{entry.failure.errorType}</span>: {entry.failure.errorMessage}
            </dd>
            <dt>Handler</dt>
            <dd>{entry.failure.handler}</dd>
            <dt>Attempts</dt>
            <dd>{entry.failure.attempts}</dd>
            <dt>From</dt>
            <dd class="mono">
              {entry.failure.sourceTopic}/{entry.failure.sourcePartition}:{entry.failure.sourceOffset}
            </dd>
            <dt>Failed</dt>
            <dd>
              {formatTime(entry.failure.firstFailureAt)} – {formatTime(entry.failure.lastFailureAt)}
            </dd>
            <dt>Ordered retries</dt>
            <dd>
              <ParkedChain group={group} entry={entry} />
            </dd>
          </dl>
          {entry.status === 'pending' && (
            <div class="actions">
              <button type="button" onClick={() => act('retry')}>
                Retry
              </button>
              <label>
                <span>Reason to discard</span>
                <input name="reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
              </label>
              <button type="button" class="danger" disabled={!reason.trim()} onClick={() => act('discard')}>
                Discard
              </button>
            </div>
          )}
          {error && <ProblemNotice error={error} />}
          {entry.actions.length > 0 && (
            <>
              <h2>What was done</h2>
              <ul>
                {entry.actions.map((action) => (
                  <li key={action.at}>
                    {formatTime(action.at)}: {action.action} by {action.by ?? 'unknown'}
                    {action.reason ? ` — ${action.reason}` : ''}
                  </li>
                ))}
              </ul>
            </>
          )}
          <h2>Event</h2>
          {entry.message.event ? (
            <JsonView value={entry.message.event} />
          ) : (
            <p class="muted">Not a CloudEvent.</p>
          )}
          <h2>Stack</h2>
          {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a long block must be scrollable with the keyboard. */}
          <pre class="stack" tabIndex={0}>
            {entry.errorStack}
          </pre>
        </>
      )}
    </section>
  );
}
