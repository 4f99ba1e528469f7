import { useEffect, useState } from 'preact/hooks';
import { type Answer, answer, api } from '../api/client';
import { ProgressBar } from './progress-bar';

/** A job as the API answers it. */
export type Job = Answer<'getJob'>;

/** How often a running job is read again. */
const POLL_MS = 300;

/** Follows a job until it ends: a progress bar, then its final counts; `onEnd` runs once when it ends. */
export function JobProgress({ job: started, onEnd }: { job: Job; onEnd?: (job: Job) => void }) {
  const [job, setJob] = useState(started);
  useEffect(() => {
    if (job.status !== 'running') {
      onEnd?.(job);
      return;
    }
    const timer = setTimeout(() => {
      answer(api.GET('/v1/jobs/{id}', { params: { path: { id: job.id } } })).then(setJob, () =>
        setJob({ ...job }),
      );
    }, POLL_MS);
    return () => clearTimeout(timer);
  }, [job]);
  return (
    <div class="job" data-job-status={job.status}>
      <ProgressBar label={`${job.kind} progress`} done={job.progress.done} total={job.progress.total} />
      <span class={`badge ${job.status}`}>{job.status}</span>
      {job.status !== 'running' && (
        <span class="muted">
          {Object.entries(job.counts)
            .map(([outcome, count]) => `${count} ${outcome}`)
            .join(', ') || 'nothing to do'}
          {job.error ? ` — ${job.error}` : ''}
        </span>
      )}
    </div>
  );
}
