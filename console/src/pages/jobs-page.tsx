import { useEffect } from 'preact/hooks';
import { answer, api } from '../api/client';
import { EmptyState } from '../components/empty-state';
import { Loading } from '../components/loading';
import { ProblemNotice } from '../components/problem-notice';
import { ProgressBar } from '../components/progress-bar';
import { formatTime } from '../lib/format';
import { useLoad } from '../lib/use-load';
import { announce } from '../state/store';

/** Read again while any job runs, in milliseconds. */
const POLL_MS = 1000;

/** Long work of the node (searches, bulk retries, imports): status, progress, counts; cancel one that runs. */
export function JobsPage() {
  const jobs = useLoad(() => answer(api.GET('/v1/jobs', { params: { query: { limit: 200 } } })), []);
  const running = jobs.data?.items.some((job) => job.status === 'running') ?? false;
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(jobs.reload, POLL_MS);
    return () => clearInterval(timer);
  }, [running, jobs.reload]);
  const cancel = async (id: string) => {
    await answer(api.POST('/v1/jobs/{id}/cancel', { params: { path: { id } } })).then(
      () => announce('success', `Asked job ${id} to stop.`),
      (error: Error) => announce('error', error.message),
    );
    jobs.reload();
  };
  return (
    <section aria-labelledby="jobs-title">
      <h1 id="jobs-title">Jobs</h1>
      <p class="muted note">Jobs are kept in the node's memory: a restart forgets them.</p>
      {jobs.error && <ProblemNotice error={jobs.error} />}
      {jobs.loading && !jobs.data && <Loading what="jobs" />}
      {jobs.data && jobs.data.items.length === 0 && (
        <EmptyState title="No jobs since the node started">
          Long work runs as a job: a bulk retry of dead letters, or a search of a whole topic (
          <code>POST /v1/topics/:topic/search</code>).
        </EmptyState>
      )}
      {jobs.data && jobs.data.items.length > 0 && (
        <table class="table">
          <caption class="sr-only">Jobs, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Kind</th>
              <th scope="col">Status</th>
              <th scope="col">Progress</th>
              <th scope="col">Counts</th>
              <th scope="col">Started</th>
              <th scope="col">By</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            {jobs.data.items.map((job) => (
              <tr key={job.id} data-job={job.id}>
                <td class="mono">{job.id}</td>
                <td>{job.kind}</td>
                <td>
                  <span class={`badge ${job.status}`}>{job.status}</span>
                  {job.error && <div class="warn-text">{job.error}</div>}
                </td>
                <td>
                  <ProgressBar
                    label={`Progress of job ${job.id}`}
                    done={job.progress.done}
                    total={job.progress.total}
                  />
                </td>
                <td>
                  {Object.entries(job.counts)
                    .map(([outcome, count]) => `${count} ${outcome}`)
                    .join(', ') || '—'}
                </td>
                <td>{formatTime(job.startedAt)}</td>
                <td>{job.actor ?? '—'}</td>
                <td>
                  {job.status === 'running' && (
                    <button type="button" class="secondary" onClick={() => cancel(job.id)}>
                      Cancel
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
