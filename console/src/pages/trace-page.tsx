import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { type Answer, answer, api } from '../api/client';
import { EmptyState } from '../components/empty-state';
import { Loading } from '../components/loading';
import { ProblemNotice } from '../components/problem-notice';
import { formatTime } from '../lib/format';
import { useLoad } from '../lib/use-load';

type Trace = Answer<'traceCorrelation'>;
type TracedEvent = Trace['events'][number];

/** What to trace, from the URL: `?event=<id>` or `?correlation=<id>`. */
interface TraceQuery {
  event?: string;
  correlation?: string;
}

/** Follows an event (or a correlation id) through the bus and the store, as its causation tree. */
export function TracePage() {
  const location = useLocation();
  const query: TraceQuery = { event: location.query.event, correlation: location.query.correlation };
  const trace = useLoad(async (): Promise<Trace | undefined> => {
    if (query.event)
      return answer(api.GET('/v1/trace/{eventId}', { params: { path: { eventId: query.event } } }));
    if (query.correlation)
      return answer(api.GET('/v1/trace', { params: { query: { correlationId: query.correlation } } }));
    return undefined;
  }, [query.event, query.correlation]);
  const asked = Boolean(query.event || query.correlation);
  return (
    <section aria-labelledby="trace-title">
      <h1 id="trace-title">Trace</h1>
      <TraceForm
        key={`${query.event}/${query.correlation}`}
        query={query}
        onTrace={(next) => location.route(`/trace?${new URLSearchParams(next as Record<string, string>)}`)}
      />
      {trace.error && <ProblemNotice error={trace.error} />}
      {!asked && (
        <EmptyState title="Trace an event">
          Enter an event id or a correlation id above, or open a message and choose “Trace this event”.
        </EmptyState>
      )}
      {asked && trace.loading && !trace.data && <Loading what="the trace" />}
      {trace.data && <CausationTree trace={trace.data} focus={query.event} />}
    </section>
  );
}

/** One box: an event id or a correlation id, whichever the reader has. */
function TraceForm({ query, onTrace }: { query: TraceQuery; onTrace: (next: TraceQuery) => void }) {
  const [kind, setKind] = useState<'event' | 'correlation'>(query.correlation ? 'correlation' : 'event');
  const [id, setId] = useState(query.correlation ?? query.event ?? '');
  return (
    <form
      class="filters"
      aria-label="What to trace"
      onSubmit={(event) => {
        event.preventDefault();
        if (id.trim()) onTrace({ [kind]: id.trim() });
      }}
    >
      <label>
        <span>Trace by</span>
        <select
          name="kind"
          value={kind}
          onChange={(event) => setKind(event.currentTarget.value as 'event' | 'correlation')}
        >
          <option value="event">event id</option>
          <option value="correlation">correlation id</option>
        </select>
      </label>
      <label>
        <span>Event or correlation id</span>
        <input name="id" value={id} onInput={(event) => setId(event.currentTarget.value)} />
      </label>
      <button type="submit">Trace</button>
    </form>
  );
}

/** The events depth first, indented by depth, each with its time, bus records, groups and streams. */
function CausationTree({ trace, focus }: { trace: Trace; focus: string | undefined }) {
  return (
    <>
      <p>
        Correlation <span class="mono">{trace.correlationId}</span>:{' '}
        <strong data-trace-count>{trace.events.length}</strong> events from {trace.roots.length} root
        {trace.roots.length === 1 ? '' : 's'}.
        {!trace.complete && (
          <span class="warn-text"> The search stopped at its bound: older events may be missing.</span>
        )}
      </p>
      <ol class="trace" aria-label="Causation tree">
        {trace.events.map((event) => (
          <TraceNode key={event.id} event={event} focused={event.id === focus} />
        ))}
      </ol>
    </>
  );
}

/** One event of the tree. */
function TraceNode({ event, focused }: { event: TracedEvent; focused: boolean }) {
  return (
    <li
      class={`trace-node${focused ? ' focused' : ''}`}
      style={{ marginInlineStart: `${event.depth * 24}px` }}
      data-trace-event={event.id}
      data-depth={event.depth}
    >
      <strong>{event.type}</strong> <span class="mono">{event.id}</span>{' '}
      <span class="muted">{formatTime(event.time)}</span>
      <ul>
        {event.topics.map((record) => (
          <li key={`${record.topic}/${record.partition}/${record.offset}`} data-trace-record>
            <a
              href={`/topics/${encodeURIComponent(record.topic)}/messages/${record.partition}/${record.offset}`}
            >
              {record.topic}/{record.partition}:{record.offset}
            </a>{' '}
            at {formatTime(record.appendedAt)} — handled by{' '}
            <span data-handled-by>
              {record.handledBy.length ? record.handledBy.join(', ') : 'no group yet'}
            </span>
          </li>
        ))}
        {event.store.map((place) => (
          <li key={`${place.streamId}/${place.version}`} data-trace-stream={place.streamId}>
            stream <a href={`/store/streams/${encodeURIComponent(place.streamId)}`}>{place.streamId}</a>{' '}
            version {place.version}
          </li>
        ))}
        {event.topics.length === 0 && event.store.length === 0 && (
          <li class="muted">Neither on a catalog topic nor in the store.</li>
        )}
      </ul>
    </li>
  );
}
