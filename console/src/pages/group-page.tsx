import { answer, api } from '../api/client';
import { Chart } from '../components/chart';
import { Loading } from '../components/loading';
import { ProblemNotice } from '../components/problem-notice';
import { ResetOffsetsForm } from '../components/reset-offsets-form';
import { formatCount } from '../lib/format';
import { useLoad } from '../lib/use-load';

/** One consumer group: its members, lag per partition as a chart, and resetting its offsets. */
export function GroupPage({ group }: { group: string }) {
  const loaded = useLoad(
    () => answer(api.GET('/v1/groups/{group}', { params: { path: { group } } })),
    [group],
  );
  const data = loaded.data;
  return (
    <section aria-labelledby="group-title">
      <p class="crumbs">
        <a href="/groups">Consumer groups</a> /
      </p>
      <h1 id="group-title">{group}</h1>
      {loaded.error && <ProblemNotice error={loaded.error} />}
      {loaded.loading && !data && <Loading what="the group" />}
      {data && (
        <>
          <dl class="facts">
            <dt>State</dt>
            <dd>{data.state}</dd>
            <dt>Members</dt>
            <dd>{data.members}</dd>
            <dt>Total lag</dt>
            <dd data-group-total-lag>{formatCount(data.lag.total)}</dd>
            <dt>Dead letters</dt>
            <dd>
              <a href={`/dead-letters/${encodeURIComponent(group)}`}>see this group's dead letters</a>
            </dd>
          </dl>
          {data.topics.map((topic) => {
            const partitions = data.lag.partitions.filter((p) => p.topic === topic);
            return (
              <Chart
                key={topic}
                title={`Lag per partition on ${topic}`}
                kind="bars"
                x={partitions.map((_, i) => i)}
                categories={partitions.map((p) => String(p.partition))}
                series={[{ label: 'lag', values: partitions.map((p) => Number(p.lag)) }]}
              />
            );
          })}
          {data.memberList.length > 0 && (
            <>
              <h2>Members</h2>
              <ul>
                {data.memberList.map((member) => (
                  <li key={member.id}>
                    <code>{member.id}</code>:{' '}
                    {member.assignment.map((a) => `${a.topic}/${a.partition}`).join(', ') || 'no partitions'}
                  </li>
                ))}
              </ul>
            </>
          )}
          <ResetOffsetsForm group={group} topics={data.topics} live={data.live} onApplied={loaded.reload} />
        </>
      )}
    </section>
  );
}
