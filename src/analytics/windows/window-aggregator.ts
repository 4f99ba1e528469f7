// Event-time windows over panes: a sliding window of `size` every `slide` is the merge of size/slide panes
// of `slide` each (a tumbling window is one pane), so each event touches one pane whatever the overlap.
import type { CompiledWindow } from './window-spec.ts';

/** The aggregates of one group in one window, as emitted and queried. */
export interface WindowResult {
  window: string;
  /** The group, e.g. an event type or a ward. */
  key: string;
  /** Window start and end (exclusive), milliseconds since the epoch (event time). */
  start: number;
  end: number;
  count: number;
  /** Events per second over the window. */
  rate: number;
  /** Over the events that gave a value; absent when none did. */
  sum?: number;
  mean?: number;
  min?: number;
  max?: number;
}

interface Pane {
  count: number;
  values: number;
  sum: number;
  min: number;
  max: number;
}

/** Aggregates one window's events and hands out the windows event time has closed. */
export interface WindowAggregator {
  readonly window: CompiledWindow;
  /** Adds one event (time in ms, group, optional value); returns windows closed by the new event time. */
  add(time: number, key: string, value: number | undefined): WindowResult[];
  /** Closes every window that ends at or before `time` (e.g. the wall clock on a quiet stream). */
  advance(time: number): WindowResult[];
}

/** Makes the aggregator of one compiled window. */
export function createWindowAggregator(window: CompiledWindow): WindowAggregator {
  const { sizeMs, slideMs, latenessMs } = window;
  const panes = new Map<number, Map<string, Pane>>();
  // Start of the next window to close; undefined until the first event.
  let nextStart: number | undefined;
  const paneOf = (time: number) => Math.floor(time / slideMs) * slideMs;

  const close = (watermark: number): WindowResult[] => {
    const results: WindowResult[] = [];
    while (nextStart !== undefined && nextStart + sizeMs <= watermark) {
      const start = nextStart;
      results.push(...merge(start));
      panes.delete(start);
      nextStart = start + slideMs;
      if (panes.size === 0) {
        nextStart = undefined;
        break;
      }
      const earliest = Math.min(...panes.keys());
      nextStart = Math.max(nextStart, earliest - sizeMs + slideMs);
    }
    return results;
  };
  const merge = (start: number): WindowResult[] => {
    const byKey = new Map<string, Pane>();
    for (let pane = start; pane < start + sizeMs; pane += slideMs) {
      for (const [key, p] of panes.get(pane) ?? []) {
        const into = byKey.get(key);
        if (into === undefined) byKey.set(key, { ...p });
        else {
          into.count += p.count;
          into.values += p.values;
          into.sum += p.sum;
          into.min = Math.min(into.min, p.min);
          into.max = Math.max(into.max, p.max);
        }
      }
    }
    return [...byKey].map(([key, p]) => ({
      window: window.id,
      key,
      start,
      end: start + sizeMs,
      count: p.count,
      rate: p.count / (sizeMs / 1_000),
      ...(p.values > 0 && { sum: p.sum, mean: p.sum / p.values, min: p.min, max: p.max }),
    }));
  };
  let watermark = Number.NEGATIVE_INFINITY;
  return {
    window,
    add(time, key, value) {
      const paneStart = paneOf(time);
      // Later than its windows' close: dropped, as their results are out.
      if (nextStart !== undefined && paneStart < nextStart) return [];
      let groups = panes.get(paneStart);
      if (groups === undefined) {
        groups = new Map();
        panes.set(paneStart, groups);
      }
      let pane = groups.get(key);
      if (pane === undefined) {
        pane = { count: 0, values: 0, sum: 0, min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY };
        groups.set(key, pane);
      }
      pane.count++;
      if (value !== undefined) {
        pane.values++;
        pane.sum += value;
        if (value < pane.min) pane.min = value;
        if (value > pane.max) pane.max = value;
      }
      if (nextStart === undefined) nextStart = paneStart - sizeMs + slideMs;
      if (time <= watermark) return [];
      watermark = time;
      return close(watermark - latenessMs);
    },
    advance: (time) => close(time - latenessMs),
  };
}
