import { useState } from 'preact/hooks';
import { type Answer, type ApiProblem, answer, api } from '../api/client';
import { EmptyState } from '../components/empty-state';
import { type Job, JobProgress } from '../components/job-progress';
import { moveFocusInList } from '../components/key-list';
import { Loading } from '../components/loading';
import { ParkedChain } from '../components/parked-chain';
import { ProblemNotice } from '../components/problem-notice';
import { formatCount, formatTime } from '../lib/format';
import { asProblem, useLoad } from '../lib/use-load';
import { announce } from '../state/store';

type FailureGroup = Answer<'summarizeDeadLetters'>['groups'][number];
type Entry = Answer<'listDeadLetters'>['items'][number];

/** A group's pending dead letters grouped by error and handler; retry a whole kind as a job with progress. */
export function DeadLettersPage({ group }: { group: string }) {
  const loaded = useLoad(async () => {
    const path = { group };
    const [summary, entries] = await Promise.all([
      answer(
        api.GET('/v1/groups/{group}/dead-letters/summary', {
          params: { path, query: { status: 'pending' } },
        }),
      ),
      answer(
        api.GET('/v1/groups/{group}/dead-letters', {
          params: { path, query: { status: 'pending', limit: 200 } },
        }),
      ),
    ]);
    return { summary, entries };
  }, [group]);
  const [job, setJob] = useState<Job | undefined>();
  const [error, setError] = useState<ApiProblem | undefined>();

  // `expectedCount` makes the node refuse (409) when the selection changed since the page showed it.
  const retry = async (selection: { errorType?: string; handler?: string; expectedCount: number }) => {
    setError(undefined);
    try {
      const started = await answer(
        api.POST('/v1/groups/{group}/dead-letters/retry', { params: { path: { group } }, body: selection }),
      );
      setJob(started);
    } catch (failure) {
      setError(asProblem(failure));
    }
  };
  const data = loaded.data;
  return (
    <section aria-labelledby="dlq-group-title">
      <p class="crumbs">
        <a href="/dead-letters">Dead letters</a> /
      </p>
      <h1 id="dlq-group-title">Dead letters of {group}</h1>
      {loaded.error && <ProblemNotice error={loaded.error} />}
      {error && <ProblemNotice error={error} />}
      {job && (
        <JobProgress
          key={job.id}
          job={job}
          onEnd={(ended) => {
            announce(
              ended.status === 'succeeded' ? 'success' : 'error',
              `Retry ${ended.status}: ${ended.counts.retried ?? 0} sent back.`,
            );
            loaded.reload();
          }}
        />
      )}
      {loaded.loading && !data && <Loading what="dead letters" />}
      {data && data.summary.total === 0 && (
        <EmptyState title="Nothing waits here">
          No pending dead letters in {group}. When a handler gives up on an event, it appears here with its
          error.
        </EmptyState>
      )}
      {data && data.summary.total > 0 && (
        <>
          <p>
            <strong data-dlq-total>{formatCount(data.summary.total)}</strong> pending, in{' '}
            {data.summary.groups.length} kinds of failure.{' '}
            <button
              type="button"
              class="secondary"
              disabled={job?.status === 'running'}
              onClick={() => retry({ expectedCount: data.summary.total })}
            >
              Retry all {data.summary.total} pending
            </button>
          </p>
          <FailureKinds
            group={group}
            kinds={data.summary.groups}
            busy={job?.status === 'running'}
            onRetry={(kind) =>
              retry({ errorType: kind.errorType, handler: kind.handler, expectedCount: kind.count })
            }
          />
          <h2>Pending entries</h2>
          <PendingEntries group={group} entries={data.entries.items} />
        </>
      )}
    </section>
  );
}

/** Failures grouped by error type and handler, each with a button that retries the whole kind. */
function FailureKinds({
  group,
  kinds,
  busy,
  onRetry,
}: {
  group: string;
  kinds: FailureGroup[];
  busy: boolean;
  onRetry: (kind: FailureGroup) => void;
}) {
  return (
    <table class="table">
      <caption class="sr-only">Failures grouped by error type and handler</caption>
      <thead>
        <tr>
          <th scope="col">Error</th>
          <th scope="col">Handler</th>
          <th scope="col" class="num">
            Count
          </th>
          <th scope="col">First seen</th>
          <th scope="col">Last seen</th>
          <th scope="col">Sample</th>
          <th scope="col">Action</th>
        </tr>
      </thead>
      <tbody>
        {kinds.map((kind) => (
          <tr key={`${kind.errorType}/${kind.handler}`}>
            <td class="mono">{kind.errorType}</td>
            <td>{kind.handler}</td>
            <td class="num">{formatCount(kind.count)}</td>
            <td>{formatTime(kind.firstSeen)}</td>
            <td>{formatTime(kind.lastSeen)}</td>
            <td>
              <a href={`/dead-letters/${encodeURIComponent(group)}/${encodeURIComponent(kind.sampleId)}`}>
                {kind.sampleMessage}
              </a>
            </td>
            <td>
              <button type="button" disabled={busy} onClick={() => onRetry(kind)}>
                Retry all {kind.count}
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The pending entries, each a link to inspect, retry or discard it. */
function PendingEntries({ group, entries }: { group: string; entries: Entry[] }) {
  return (
    <table class="table compact">
      <caption class="sr-only">Pending dead letters</caption>
      <thead>
        <tr>
          <th scope="col">Entry</th>
          <th scope="col">Event type</th>
          <th scope="col">Error</th>
          <th scope="col">From</th>
          <th scope="col">Last failure</th>
          <th scope="col">Ordered retries</th>
        </tr>
      </thead>
      <tbody onKeyDown={moveFocusInList}>
        {entries.map((entry) => (
          <tr key={entry.id} class={entry.parkedBehindEntry ? 'parked' : undefined}>
            <td>
              <a
                data-row-link
                href={`/dead-letters/${encodeURIComponent(group)}/${encodeURIComponent(entry.id)}`}
              >
                {entry.id}
              </a>
            </td>
            <td>{entry.eventType ?? '—'}</td>
            <td>
              <span class="mono">{entry.failure.errorType}</span>: {entry.failure.errorMessage}
            </td>
            <td class="mono">
              {entry.failure.sourceTopic}/{entry.failure.sourcePartition}:{entry.failure.sourceOffset}
            </td>
            <td>{formatTime(entry.failure.lastFailureAt)}</td>
            <td>
              <ParkedChain group={group} entry={entry} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
