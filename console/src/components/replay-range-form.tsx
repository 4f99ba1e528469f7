import { useState } from 'preact/hooks';
import { type ApiProblem, answer, api } from '../api/client';
import { asProblem } from '../lib/use-load';
import { announce } from '../state/store';
import { type Job, JobProgress } from './job-progress';
import { ProblemNotice } from './problem-notice';

/** A `datetime-local` value (the reader's zone) as an ISO time, or the text itself for the node to refuse. */
function isoOf(local: string): string {
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? local : date.toISOString();
}

/** Re-delivers the events appended in a time range to the subscription's endpoint, as a job with progress. */
export function ReplayRangeForm({ name, onEnd }: { name: string; onEnd: () => void }) {
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [job, setJob] = useState<Job | undefined>();
  const [error, setError] = useState<ApiProblem | undefined>();
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      const body = { from: isoOf(from), to: isoOf(to) };
      setJob(await answer(api.POST('/v1/subscriptions/{name}/replay', { params: { path: { name } }, body })));
    } catch (failure) {
      setError(asProblem(failure));
    }
  };
  return (
    <form class="filters" aria-labelledby="replay-title" onSubmit={submit}>
      <h2 id="replay-title" class="wide">
        Re-deliver a range
      </h2>
      <label>
        <span>Appended from</span>
        <input
          name="from"
          type="datetime-local"
          step="1"
          value={from}
          onInput={(e) => setFrom(e.currentTarget.value)}
          required
        />
      </label>
      <label>
        <span>Until (before)</span>
        <input
          name="to"
          type="datetime-local"
          step="1"
          value={to}
          onInput={(e) => setTo(e.currentTarget.value)}
          required
        />
      </label>
      <div class="actions">
        <button type="submit" disabled={job?.status === 'running'}>
          Re-deliver
        </button>
      </div>
      {error && (
        <div class="wide">
          <ProblemNotice error={error} />
        </div>
      )}
      {job && (
        <div class="wide">
          <JobProgress
            key={job.id}
            job={job}
            onEnd={(ended) => {
              announce(
                ended.status === 'succeeded' ? 'success' : 'error',
                `Re-delivery ${ended.status}: ${ended.counts.delivered ?? 0} delivered.`,
              );
              onEnd();
            }}
          />
        </div>
      )}
    </form>
  );
}
