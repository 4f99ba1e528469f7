import { answer, api } from '../api/client';
import { formatBytes, formatCount } from '../lib/format';
import { useLoad } from '../lib/use-load';

/** A topic's partitions (oldest and next offset of each) and the groups reading it, folded away until opened. */
export function TopicSummary({ topic }: { topic: string }) {
  const loaded = useLoad(
    () => answer(api.GET('/v1/topics/{topic}', { params: { path: { topic } } })),
    [topic],
  );
  const data = loaded.data;
  if (!data) return null;
  return (
    <details class="summary-card">
      <summary>
        {formatCount(data.messages)} messages ({formatBytes(data.bytes)}) in {data.partitions} partitions
        {data.groups && data.groups.length > 0
          ? ` · read by ${data.groups.map((g) => `${g.group} (lag ${formatCount(g.lag)})`).join(', ')}`
          : ''}
      </summary>
      <table class="table compact">
        <caption class="sr-only">Partitions of {topic}</caption>
        <thead>
          <tr>
            <th scope="col" class="num">
              Partition
            </th>
            <th scope="col" class="num">
              Oldest offset
            </th>
            <th scope="col" class="num">
              Next offset
            </th>
            <th scope="col" class="num">
              Messages
            </th>
            <th scope="col" class="num">
              Size
            </th>
          </tr>
        </thead>
        <tbody>
          {data.offsets.map((p) => (
            <tr key={p.partition}>
              <td class="num">
                <a href={`/topics/${encodeURIComponent(topic)}?partition=${p.partition}`}>{p.partition}</a>
              </td>
              <td class="num">{formatCount(p.earliest)}</td>
              <td class="num">{formatCount(p.latest)}</td>
              <td class="num">{formatCount(BigInt(p.latest) - BigInt(p.earliest))}</td>
              <td class="num">{formatBytes(p.bytes)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
