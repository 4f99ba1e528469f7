import { useEffect, useState } from 'preact/hooks';
import type { ApiProblem } from '../api/client';
import { Chart } from '../components/chart';
import { ProblemNotice } from '../components/problem-notice';
import { StatCard } from '../components/stat-card';
import { formatCount, formatRate } from '../lib/format';
import { asProblem } from '../lib/use-load';
import { breakers, overviewSeries } from '../state/store';
import { POLL_MS, readOverview } from './overview-figures';

const BREAKER_STATES = ['closed', 'open', 'half-open'];

/** The node at a glance: publish and consume rates, errors, total lag, pending dead letters, breakers. */
export function OverviewPage() {
  const [error, setError] = useState<ApiProblem | undefined>();
  useEffect(() => {
    let stopped = false;
    const tick = () =>
      readOverview().then(
        () => setError(undefined),
        (failure: unknown) => !stopped && setError(asProblem(failure)),
      );
    tick();
    const timer = setInterval(tick, POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);

  const series = overviewSeries.value;
  const latest = series.at(-1);
  const x = series.map((p) => p.at);
  const breakerList = Object.entries(breakers.value);
  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">Overview</h1>
      <p class="muted note">
        Figures are read from the node every {POLL_MS / 1000} s (<code>/metrics</code>, consumer groups, dead
        letters): the node has no live figures stream yet. Rates count what this node published and consumed.
      </p>
      {error && <ProblemNotice error={error} />}
      <div class="stats">
        <StatCard label="Published" value={latest ? formatRate(latest.publishRate) : '…'} />
        <StatCard label="Consumed" value={latest ? formatRate(latest.consumeRate) : '…'} />
        <StatCard
          label="Errors"
          value={latest ? formatRate(latest.errorRate) : '…'}
          tone={latest && latest.errorRate > 0 ? 'warn' : undefined}
        />
        <StatCard
          label="Total lag"
          value={latest ? formatCount(latest.totalLag) : '…'}
          hint="records behind, all groups"
        />
        <StatCard
          label="Dead letters"
          value={latest ? formatCount(latest.dlqPending) : '…'}
          hint="pending, all groups"
          tone={latest && latest.dlqPending > 0 ? 'warn' : undefined}
        />
      </div>
      <div class="charts">
        <Chart
          title="Events per second"
          x={x}
          series={[
            { label: 'published', values: series.map((p) => p.publishRate) },
            { label: 'consumed', values: series.map((p) => p.consumeRate), colour: '#16a34a' },
            { label: 'errors', values: series.map((p) => p.errorRate), colour: '#dc2626' },
          ]}
        />
        <Chart
          title="Lag and dead letters"
          x={x}
          series={[
            { label: 'total lag', values: series.map((p) => p.totalLag) },
            { label: 'dead letters', values: series.map((p) => p.dlqPending), colour: '#d97706' },
          ]}
        />
      </div>
      <h2>Circuit breakers</h2>
      {breakerList.length === 0 ? (
        <p class="muted">
          No circuit breakers on this node: they appear here once a router with a breaker runs in it.
        </p>
      ) : (
        <ul class="breakers">
          {breakerList.map(([name, state]) => (
            <li key={name} class={`breaker ${BREAKER_STATES[state] ?? ''}`}>
              {name}: {BREAKER_STATES[state] ?? state}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
