import { answer, api } from '../api/client';
import { JsonView } from '../components/json-view';
import { LoadMore } from '../components/load-more';
import { Loading } from '../components/loading';
import { ProblemNotice } from '../components/problem-notice';
import { formatTime } from '../lib/format';
import { usePagedLoad } from '../lib/use-paged-load';

/** Events fetched per page. */
const PAGE = 500;

/** One stream's history: each event with its version and position, and the snapshots in force. */
export function StreamPage({ streamId }: { streamId: string }) {
  const stream = usePagedLoad(
    (cursor) =>
      answer(
        api.GET('/v1/store/streams/{streamId}', {
          params: { path: { streamId }, query: { limit: PAGE, ...(cursor ? { cursor } : {}) } },
        }),
      ),
    [streamId],
  );
  const data = stream.first;
  return (
    <section aria-labelledby="stream-title">
      <p class="crumbs">
        <a href="/store">Event store</a> /
      </p>
      <h1 id="stream-title">Stream {streamId}</h1>
      {stream.error && <ProblemNotice error={stream.error} />}
      {stream.loading && !data && <Loading what="the stream" />}
      {data && (
        <>
          <p>
            At version <strong data-stream-version>{data.version}</strong>.
          </p>
          <h2>Snapshots in force</h2>
          {data.snapshots.length === 0 ? (
            <p class="muted">No snapshot: loading this stream folds every event.</p>
          ) : (
            data.snapshots.map((snapshot) => (
              <div key={snapshot.name} data-snapshot={snapshot.name}>
                <p>
                  <strong>{snapshot.name}</strong> at stream version {snapshot.streamVersion} (state shape{' '}
                  {snapshot.stateVersion}), taken {formatTime(snapshot.createdAt)}
                </p>
                <JsonView value={snapshot.state} />
              </div>
            ))
          )}
          <h2>History</h2>
          <table class="table compact">
            <caption class="sr-only">Events of the stream</caption>
            <thead>
              <tr>
                <th scope="col" class="num">
                  Version
                </th>
                <th scope="col">Type</th>
                <th scope="col">Event id</th>
                <th scope="col" class="num">
                  Position
                </th>
                <th scope="col">Recorded</th>
              </tr>
            </thead>
            <tbody>
              {(stream.items ?? []).map((item) => (
                <tr key={item.version} data-event-version={item.version}>
                  <td class="num">{item.version}</td>
                  <td>{String(item.event.type ?? '—')}</td>
                  <td class="mono">
                    <a href={`/trace?event=${encodeURIComponent(String(item.event.id))}`}>
                      {String(item.event.id)}
                    </a>
                  </td>
                  <td class="num">{item.position}</td>
                  <td>{formatTime(item.recordedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <LoadMore list={stream} what="events" />
        </>
      )}
    </section>
  );
}
