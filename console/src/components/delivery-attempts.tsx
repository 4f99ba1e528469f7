import type { Answer } from '../api/client';
import { formatMillis, formatTime } from '../lib/format';
import { EmptyState } from './empty-state';

/** One request made to a subscription's endpoint, as the API answers it. */
export type Attempt = Answer<'listDeliveryAttempts'>['items'][number];

/** The latest attempts, newest first: outcome, HTTP status (or why none came), latency, the answer's start. */
export function DeliveryAttempts({ attempts }: { attempts: Attempt[] }) {
  if (attempts.length === 0)
    return (
      <EmptyState title="No attempts yet">
        Each request to the endpoint is listed here once an event matches the subscription.
      </EmptyState>
    );
  return (
    <table class="table compact">
      <caption class="sr-only">Recent delivery attempts, newest first</caption>
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">Event</th>
          <th scope="col">Kind</th>
          <th scope="col">Outcome</th>
          <th scope="col" class="num">
            Status
          </th>
          <th scope="col" class="num">
            Latency
          </th>
          <th scope="col">Answer</th>
        </tr>
      </thead>
      <tbody>
        {attempts.map((attempt) => (
          <tr key={attempt.id} data-attempt={attempt.outcome}>
            <td>{formatTime(attempt.at)}</td>
            <td class="mono">{attempt.eventId}</td>
            <td>{attempt.kind}</td>
            <td>
              <span class={`badge ${attempt.outcome === 'delivered' ? 'succeeded' : 'failed'}`}>
                {attempt.outcome}
              </span>
            </td>
            <td class="num" data-attempt-status>
              {attempt.status ?? '—'}
            </td>
            <td class="num">{formatMillis(attempt.latencyMs)}</td>
            <td class="mono" data-attempt-answer>
              {attempt.error ?? attempt.excerpt}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
