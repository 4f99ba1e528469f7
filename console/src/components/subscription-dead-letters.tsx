import { useState } from 'preact/hooks';
import { type Answer, type ApiProblem, answer, api } from '../api/client';
import { formatTime } from '../lib/format';
import { asProblem } from '../lib/use-load';
import { announce } from '../state/store';
import { EmptyState } from './empty-state';
import { ProblemNotice } from './problem-notice';

type Entry = Answer<'listDeadLetters'>['items'][number];

/**
 * A subscription's pending dead letters (its consumer group's DLQ), each retried (sent back to be delivered
 * again) or discarded with a reason, through the same API as any group's.
 */
export function SubscriptionDeadLetters({
  group,
  entries,
  onChange,
}: {
  group: string;
  entries: Entry[];
  onChange: () => void;
}) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<ApiProblem | undefined>();
  const act = async (id: string, action: 'retry' | 'discard') => {
    setError(undefined);
    try {
      const path = { group, id };
      if (action === 'retry')
        await answer(api.POST('/v1/groups/{group}/dead-letters/{id}/retry', { params: { path } }));
      else
        await answer(
          api.POST('/v1/groups/{group}/dead-letters/{id}/discard', { params: { path }, body: { reason } }),
        );
      announce('success', action === 'retry' ? `Sent ${id} back for delivery.` : `Discarded ${id}.`);
      onChange();
    } catch (failure) {
      setError(asProblem(failure));
    }
  };
  if (entries.length === 0)
    return (
      <EmptyState title="No dead letters">
        An event the endpoint kept refusing after every attempt waits here for a retry or a discard.
      </EmptyState>
    );
  return (
    <>
      <label class="actions">
        <span>Reason to discard</span>
        <input name="discard-reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
      </label>
      {error && <ProblemNotice error={error} />}
      <table class="table compact">
        <caption class="sr-only">Pending dead letters of the subscription</caption>
        <thead>
          <tr>
            <th scope="col">Entry</th>
            <th scope="col">Event type</th>
            <th scope="col">Error</th>
            <th scope="col">Last failure</th>
            <th scope="col">Action</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => (
            <tr key={entry.id} data-dead-letter={entry.id}>
              <td>
                <a href={`/dead-letters/${encodeURIComponent(group)}/${encodeURIComponent(entry.id)}`}>
                  {entry.id}
                </a>
              </td>
              <td>{entry.eventType ?? '—'}</td>
              <td>{entry.failure.errorMessage}</td>
              <td>{formatTime(entry.failure.lastFailureAt)}</td>
              <td class="actions">
                <button type="button" onClick={() => act(entry.id, 'retry')}>
                  Retry {entry.id}
                </button>
                <button
                  type="button"
                  class="danger"
                  disabled={!reason.trim()}
                  onClick={() => act(entry.id, 'discard')}
                >
                  Discard {entry.id}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
