import { useState } from 'preact/hooks';
import { type ApiProblem, answer, api } from '../api/client';
import { apiQueryOf, type MessageFilters } from '../lib/message-filters';
import { asProblem } from '../lib/use-load';
import { type Job, JobProgress } from './job-progress';
import { ProblemNotice } from './problem-notice';

/** Matches listed under the search; the job keeps them all (see Jobs). */
const SHOWN = 100;

/**
 * Searches the whole topic with the browser's filters as a job on the node (`POST /v1/topics/:topic/search`):
 * a progress bar while it scans, then links to the messages that matched.
 */
export function TopicSearch({ topic, filters }: { topic: string; filters: MessageFilters }) {
  const [job, setJob] = useState<Job | undefined>();
  const [ended, setEnded] = useState<Job | undefined>();
  const [error, setError] = useState<ApiProblem | undefined>();
  const start = async () => {
    setError(undefined);
    setEnded(undefined);
    const { partition: _partition, ...body } = apiQueryOf(filters);
    try {
      setJob(await answer(api.POST('/v1/topics/{topic}/search', { params: { path: { topic } }, body })));
    } catch (failure) {
      setError(asProblem(failure));
    }
  };
  const cancel = () =>
    job && answer(api.POST('/v1/jobs/{id}/cancel', { params: { path: { id: job.id } } })).catch(() => {});
  const matched = ended?.items.matched ?? [];
  return (
    <section class="search" aria-label="Search the whole topic">
      <div class="actions">
        <button
          type="button"
          class="secondary"
          onClick={start}
          disabled={job !== undefined && ended === undefined}
        >
          Search the whole topic
        </button>
        {job && !ended && (
          <button type="button" class="secondary" onClick={cancel}>
            Stop
          </button>
        )}
      </div>
      {error && <ProblemNotice error={error} />}
      {job && <JobProgress key={job.id} job={job} onEnd={setEnded} />}
      {ended && (
        <>
          <p data-search-result>
            {ended.counts.matched ?? 0} matched in {ended.counts.scanned ?? 0} records.
          </p>
          <ul class="matches">
            {matched.slice(0, SHOWN).map((position) => {
              const [partition, offset] = position.split(':');
              return (
                <li key={position}>
                  <a href={`/topics/${encodeURIComponent(topic)}/messages/${partition}/${offset}`}>
                    {position}
                  </a>
                </li>
              );
            })}
          </ul>
          {matched.length > SHOWN && <p class="muted">The first {SHOWN} are listed.</p>}
        </>
      )}
    </section>
  );
}
