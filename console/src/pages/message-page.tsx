import { answer, api } from '../api/client';
import { JsonView } from '../components/json-view';
import { Loading } from '../components/loading';
import { ProblemNotice } from '../components/problem-notice';
import { RawBytes } from '../components/raw-bytes';
import { formatBytes, formatTime } from '../lib/format';
import { useLoad } from '../lib/use-load';

/** One message: where and when, its headers, the decoded CloudEvent and its raw bytes. */
export function MessagePage({
  topic,
  partition,
  offset,
}: {
  topic: string;
  partition: string;
  offset: string;
}) {
  const message = useLoad(
    () =>
      answer(
        api.GET('/v1/topics/{topic}/partitions/{partition}/offsets/{offset}', {
          params: { path: { topic, partition: Number(partition), offset } },
        }),
      ),
    [topic, partition, offset],
  );
  const data = message.data;
  return (
    <section aria-labelledby="message-title">
      <p class="crumbs">
        <a href="/topics">Topics</a> / <a href={`/topics/${encodeURIComponent(topic)}`}>{topic}</a> /
      </p>
      <h1 id="message-title">
        Message {partition}:{offset}
      </h1>
      {message.error && <ProblemNotice error={message.error} />}
      {message.loading && !data && <Loading what="the message" />}
      {data && (
        <>
          <dl class="facts">
            <dt>Appended</dt>
            <dd>{formatTime(data.timestamp)}</dd>
            <dt>Key</dt>
            <dd class="mono">{data.key ?? '—'}</dd>
            <dt>Size</dt>
            <dd>{formatBytes(data.size)}</dd>
            <dt>Type</dt>
            <dd>{String(data.event?.type ?? '—')}</dd>
            <dt>Id</dt>
            <dd class="mono">{String(data.event?.id ?? '—')}</dd>
          </dl>
          {data.event?.id !== undefined && (
            <p>
              <a href={`/trace?event=${encodeURIComponent(String(data.event.id))}`}>Trace this event</a>
            </p>
          )}
          <h2>Event</h2>
          {data.event ? (
            <JsonView value={data.event} />
          ) : (
            <p class="muted">This record is not a valid CloudEvent: see its raw bytes below.</p>
          )}
          <h2>Headers</h2>
          {Object.keys(data.headers).length === 0 ? (
            <p class="muted">No headers.</p>
          ) : (
            <table class="table compact">
              <caption class="sr-only">Headers</caption>
              <thead>
                <tr>
                  <th scope="col">Header</th>
                  <th scope="col">Value</th>
                </tr>
              </thead>
              <tbody>
                {Object.entries(data.headers).map(([name, value]) => (
                  <tr key={name}>
                    <td class="mono">{name}</td>
                    <td class="mono">{value}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h2>Raw bytes</h2>
          <RawBytes base64={data.value} />
        </>
      )}
    </section>
  );
}
