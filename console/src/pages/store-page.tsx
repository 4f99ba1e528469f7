import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { type Answer, type ApiProblem, answer, api } from '../api/client';
import { EmptyState } from '../components/empty-state';
import { type Job, JobProgress } from '../components/job-progress';
import { moveFocusInList } from '../components/key-list';
import { LoadMore } from '../components/load-more';
import { Loading } from '../components/loading';
import { ProblemNotice } from '../components/problem-notice';
import { formatCount, formatTime } from '../lib/format';
import { asProblem, useLoad } from '../lib/use-load';
import { usePagedLoad } from '../lib/use-paged-load';
import { announce } from '../state/store';

type Stream = Answer<'listStreams'>['items'][number];
type Projection = Answer<'listProjections'>['items'][number];

/** What the streams list is filtered by; each is a query parameter of the page's URL. */
const STREAM_FILTERS = ['tenant', 'type', 'prefix'] as const;
type StreamFilters = Partial<Record<(typeof STREAM_FILTERS)[number], string>>;

/** The event store: its streams (filters in the URL) and the async projections with their rebuilds. */
export function StorePage() {
  const location = useLocation();
  const filters: StreamFilters = {};
  for (const name of STREAM_FILTERS) if (location.query[name]) filters[name] = location.query[name];
  const key = JSON.stringify(filters);
  const streams = usePagedLoad(
    (cursor) =>
      answer(
        api.GET('/v1/store/streams', {
          params: { query: { ...filters, limit: 200, ...(cursor ? { cursor } : {}) } },
        }),
      ),
    [key],
  );
  const apply = (next: StreamFilters) => {
    const search = new URLSearchParams(
      Object.entries(next).filter((entry): entry is [string, string] => Boolean(entry[1])),
    ).toString();
    location.route(`/store${search ? `?${search}` : ''}`);
  };
  return (
    <section aria-labelledby="store-title">
      <h1 id="store-title">Event store</h1>
      <h2>Streams</h2>
      <StreamFilterForm key={key} filters={filters} onApply={apply} />
      {streams.error && <ProblemNotice error={streams.error} />}
      {streams.loading && !streams.items && <Loading what="streams" />}
      {streams.items && streams.items.length === 0 && (
        <EmptyState title="No streams match">
          {key === '{}' ? (
            <>
              A stream appears when an aggregate appends its first event (<code>store.append</code>).
            </>
          ) : (
            'Clear or change the filters above to see other streams.'
          )}
        </EmptyState>
      )}
      {streams.items && streams.items.length > 0 && <StreamTable streams={streams.items} />}
      <LoadMore list={streams} what="streams" />
      <h2>Projections</h2>
      <Projections />
    </section>
  );
}

/** Tenant, event type and id prefix; applying them changes the URL, so a filtered list can be shared. */
function StreamFilterForm({
  filters,
  onApply,
}: {
  filters: StreamFilters;
  onApply: (next: StreamFilters) => void;
}) {
  const [draft, setDraft] = useState<StreamFilters>(filters);
  const labels = { tenant: 'Tenant', type: 'Event type', prefix: 'Stream id starts with' };
  return (
    <form
      class="filters"
      aria-label="Stream filters"
      onSubmit={(event) => {
        event.preventDefault();
        onApply(draft);
      }}
    >
      {STREAM_FILTERS.map((name) => (
        <label key={name}>
          <span>{labels[name]}</span>
          <input
            name={name}
            value={draft[name] ?? ''}
            onInput={(event) => setDraft({ ...draft, [name]: event.currentTarget.value || undefined })}
          />
        </label>
      ))}
      <button type="submit">Filter</button>
    </form>
  );
}

/** Streams with their tenant, version and when they last changed; each a link to its history. */
function StreamTable({ streams }: { streams: Stream[] }) {
  return (
    <table class="table">
      <caption class="sr-only">Streams</caption>
      <thead>
        <tr>
          <th scope="col">Stream</th>
          <th scope="col">Tenant</th>
          <th scope="col" class="num">
            Version
          </th>
          <th scope="col">Updated</th>
        </tr>
      </thead>
      <tbody onKeyDown={moveFocusInList}>
        {streams.map((stream) => (
          <tr key={stream.streamId} data-stream={stream.streamId}>
            <td>
              <a data-row-link href={`/store/streams/${encodeURIComponent(stream.streamId)}`}>
                {stream.streamId}
              </a>
              {stream.deletedAt && <span class="badge failed"> deleted</span>}
            </td>
            <td>{stream.tenantId}</td>
            <td class="num" data-stream-version>
              {stream.version}
            </td>
            <td>{formatTime(stream.updatedAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Async projections: checkpoint, lag and status, and a rebuild that runs as a job with a progress bar. */
function Projections() {
  const projections = useLoad(() => answer(api.GET('/v1/store/projections', {})), []);
  const [job, setJob] = useState<Job | undefined>();
  const [error, setError] = useState<ApiProblem | undefined>();
  const rebuild = async (name: string) => {
    setError(undefined);
    try {
      setJob(await answer(api.POST('/v1/store/projections/{name}/rebuild', { params: { path: { name } } })));
    } catch (failure) {
      setError(asProblem(failure));
    }
  };
  const items = projections.data?.items;
  return (
    <>
      {projections.error && <ProblemNotice error={projections.error} />}
      {error && <ProblemNotice error={error} />}
      {job && (
        <JobProgress
          key={job.id}
          job={job}
          onEnd={(ended) => {
            announce(ended.status === 'succeeded' ? 'success' : 'error', `Rebuild ${ended.status}.`);
            projections.reload();
          }}
        />
      )}
      {projections.loading && !items && <Loading what="projections" />}
      {items && items.length === 0 && (
        <EmptyState title="No projections yet">
          A projection appears once an async projection (<code>createAsyncProjection</code>) has run against
          this store.
        </EmptyState>
      )}
      {items && items.length > 0 && (
        <ProjectionTable
          projections={items}
          busy={job?.status === 'running'}
          onRebuild={(name) => rebuild(name)}
        />
      )}
    </>
  );
}

/** One row per projection, with its rebuild button when this node holds its definition. */
function ProjectionTable({
  projections,
  busy,
  onRebuild,
}: {
  projections: Projection[];
  busy: boolean;
  onRebuild: (name: string) => void;
}) {
  return (
    <table class="table">
      <caption class="sr-only">Projections</caption>
      <thead>
        <tr>
          <th scope="col">Projection</th>
          <th scope="col">Scope</th>
          <th scope="col">Status</th>
          <th scope="col" class="num">
            Lag
          </th>
          <th scope="col" class="num">
            Generation
          </th>
          <th scope="col">Updated</th>
          <th scope="col">Action</th>
        </tr>
      </thead>
      <tbody>
        {projections.map((projection) => (
          <tr key={projection.name} data-projection={projection.name}>
            <td class="mono">{projection.name}</td>
            <td>{projection.scope}</td>
            <td>
              <span class="badge" data-projection-status>
                {projection.status}
              </span>
            </td>
            <td class="num" data-projection-lag>
              {formatCount(projection.lag)}
            </td>
            <td class="num">{projection.generation}</td>
            <td>{formatTime(projection.updatedAt)}</td>
            <td>
              {projection.rebuildable ? (
                <button
                  type="button"
                  disabled={busy || projection.status === 'rebuilding'}
                  onClick={() => onRebuild(projection.name)}
                >
                  Rebuild {projection.name}
                </button>
              ) : (
                <span class="muted">definition not on this node</span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
