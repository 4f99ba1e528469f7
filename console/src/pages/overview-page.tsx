import { useEffect, useState } from 'preact/hooks';
import { Chart } from '../components/chart';
import { StatCard } from '../components/stat-card';
import { formatCount, formatRate } from '../lib/format';
import { overviewSeries, workflowsAtRisk } from '../state/store';
import { followFigures, INTERVAL_MS } from './overview-figures';

/** The node at a glance, live: write, consume and failure rates, total lag, dead letters, breakers, workflows at risk. */
export function OverviewPage() {
  const [stream, setStream] = useState<'open' | 'connecting' | 'closed'>('connecting');
  useEffect(() => followFigures(setStream), []);

  const series = overviewSeries.value;
  const latest = series.at(-1);
  const x = series.map((p) => p.at);
  const breakers = Object.entries(latest?.breakers ?? {});
  const workflows = workflowsAtRisk.value;
  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">Overview</h1>
      <p class="muted note" data-figures-stream={stream}>
        {stream === 'open'
          ? `Live: the node sends its figures every ${INTERVAL_MS / 1000} s (/v1/live/figures).`
          : stream === 'connecting'
            ? 'Connecting to the node’s figures…'
            : 'The node closed the figures stream; reload the page to follow it again.'}
      </p>
      <div class="stats">
        <StatCard
          label="Written"
          value={latest ? formatRate(latest.appendRate) : '…'}
          hint="records appended to the catalog topics"
        />
        <StatCard
          label="Consumed"
          value={latest ? formatRate(latest.consumeRate) : '…'}
          hint="records the groups committed past"
        />
        <StatCard
          label="Failures"
          value={latest ? formatRate(latest.failureRate) : '…'}
          hint="dead-lettered and failed publishes"
          tone={latest && latest.failureRate > 0 ? 'warn' : undefined}
        />
        <StatCard
          label="Total lag"
          value={latest ? formatCount(latest.totalLag) : '…'}
          hint="records behind, all groups"
        />
        <StatCard
          label="Dead letters"
          value={latest ? formatCount(latest.deadLetters) : '…'}
          hint="held in the groups' DLQs"
          tone={latest && latest.deadLetters > 0 ? 'warn' : undefined}
        />
        {workflows && (
          <StatCard
            label="Workflows at risk"
            value={formatCount(workflows.atRisk + workflows.breached)}
            hint={`${workflows.breached} breached, ${workflows.needsOperator} need an operator`}
            tone={workflows.atRisk + workflows.breached + workflows.needsOperator > 0 ? 'warn' : undefined}
          />
        )}
      </div>
      <div class="charts">
        <Chart
          title="Records per second"
          x={x}
          series={[
            { label: 'written', values: series.map((p) => p.appendRate) },
            { label: 'consumed', values: series.map((p) => p.consumeRate), colour: '#16a34a' },
            { label: 'failures', values: series.map((p) => p.failureRate), colour: '#dc2626' },
          ]}
        />
        <Chart
          title="Lag and dead letters"
          x={x}
          series={[
            { label: 'total lag', values: series.map((p) => p.totalLag) },
            { label: 'dead letters', values: series.map((p) => p.deadLetters), colour: '#d97706' },
          ]}
        />
      </div>
      <h2>Circuit breakers</h2>
      {breakers.length === 0 ? (
        <p class="muted">
          No circuit breakers in this node: they appear here once a router with a breaker runs in it.
        </p>
      ) : (
        <ul class="breakers">
          {breakers.map(([name, state]) => (
            <li key={name} class={`breaker ${state}`}>
              {name}: {state}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
