import { answer, api } from '../api/client';
import { parsePrometheus, type Sample, sumOf } from '../lib/prometheus';
import { breakers, type OverviewPoint, recordOverview } from '../state/store';

/** How often the overview reads the node's figures: no live stream of them exists yet, so it polls. */
export const POLL_MS = 2000;

/** Counters whose per-second change the overview shows. */
interface Counters {
  at: number;
  published: number;
  consumed: number;
  errors: number;
}

let previous: Counters | undefined;

/** Reads `/metrics`, the groups' lag and the dead-letter counts once, and records a point of the overview. */
export async function readOverview(): Promise<OverviewPoint> {
  const [metricsText, groups] = await Promise.all([
    fetch('/metrics').then((response) => response.text()),
    answer(api.GET('/v1/groups', { params: { query: { limit: 500 } } })),
  ]);
  const samples = parsePrometheus(metricsText);
  const counters = countersOf(samples);
  const totalLag = groups.items.reduce((sum, group) => sum + Number(group.lag.total), 0);
  const dlqPending = await pendingDeadLetters(groups.items.map((group) => group.group));
  const seconds = previous ? Math.max(0.001, counters.at - previous.at) : 1;
  const rate = (now: number, before: number | undefined) =>
    before === undefined ? 0 : Math.max(0, now - before) / seconds;
  const point: OverviewPoint = {
    at: counters.at,
    publishRate: rate(counters.published, previous?.published),
    consumeRate: rate(counters.consumed, previous?.consumed),
    errorRate: rate(counters.errors, previous?.errors),
    totalLag,
    dlqPending,
  };
  previous = counters;
  breakers.value = breakerStates(samples);
  recordOverview(point);
  return point;
}

function countersOf(samples: Sample[]): Counters {
  return {
    at: Date.now() / 1000,
    published: sumOf(samples, 'keel_event_published_total'),
    consumed: sumOf(samples, 'keel_event_consumed_total'),
    errors:
      sumOf(samples, 'keel_event_publish_errors_total') +
      sumOf(
        samples,
        'keel_event_consumed_total',
        (labels) => labels.outcome !== undefined && labels.outcome !== 'handled',
      ),
  };
}

/** Dead letters still pending, over every group (each group has its own DLQ). */
async function pendingDeadLetters(groups: string[]): Promise<number> {
  const totals = await Promise.all(
    groups.map((group) =>
      answer(
        api.GET('/v1/groups/{group}/dead-letters/summary', {
          params: { path: { group }, query: { status: 'pending' } },
        }),
      ).then((summary) => summary.total),
    ),
  );
  return totals.reduce((sum, total) => sum + total, 0);
}

function breakerStates(samples: Sample[]): Record<string, number> {
  const states: Record<string, number> = {};
  for (const sample of samples)
    if (sample.name === 'keel_circuit_breaker_state') states[sample.labels.name ?? '?'] = sample.value;
  return states;
}
