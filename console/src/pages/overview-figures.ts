import type { Answer } from '../api/client';
import { openEventStream } from '../lib/event-stream';
import { type OverviewPoint, recordOverview, workflowsAtRisk } from '../state/store';

/** Milliseconds between two figures the node sends. */
export const INTERVAL_MS = 2000;

/** The node's figures, as `GET /v1/figures` and each event of `/v1/live/figures` carry them. */
export type Figures = Answer<'getFigures'>;

/**
 * Follows the node's figures stream (`/v1/live/figures`, server-sent events) and records each as a point
 * of the overview. `onState` hears whether the stream is open. Returns what stops it.
 */
export function followFigures(onState: (state: 'open' | 'connecting' | 'closed') => void): () => void {
  // Reconnects by itself; closed means the node refused the stream.
  return openEventStream(`/v1/live/figures?intervalMs=${INTERVAL_MS}`, {
    onState,
    onEvent: (name, data) => {
      if (name === 'figures') recordFigures(JSON.parse(data));
    },
  });
}

/** Turns one figures event into a point of the overview's charts. */
export function recordFigures(figures: Figures): void {
  const rates = figures.rates;
  const point: OverviewPoint = {
    at: Date.parse(figures.at) / 1000,
    appendRate: rates?.appendedPerSecond ?? 0,
    consumeRate: rates?.consumedPerSecond ?? 0,
    failureRate: (rates?.deadLetteredPerSecond ?? 0) + (rates?.publishErrorsPerSecond ?? 0),
    totalLag: figures.lag.total,
    deadLetters: figures.deadLetters.total,
    breakers: Object.fromEntries(figures.breakers.map((breaker) => [breaker.name, breaker.state])),
  };
  workflowsAtRisk.value = figures.workflows;
  recordOverview(point);
}
