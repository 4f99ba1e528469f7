import type { Counter, Histogram, LabelValues } from 'prom-client';

/**
 * Hot-path metric children. prom-client hashes and validates the labels on every `inc` and `observe`
 * (and turns the bucket bound into a string key), which cost more per event than the rest of Keel's
 * middleware together. A batched child adds to plain numbers instead, and the metric's `collect` hook
 * folds them into prom-client whenever the metric is read (a scrape, `get()`, `getSingleMetricAsString`),
 * so every read sees exact values. Only metrics created with `collect: flushBatches` batch; for any
 * other metric the children call prom-client directly.
 */

/** A counter child that batches its increments until the metric is read. */
export interface BatchedCounter {
  inc(): void;
}

/** A histogram child that batches its observations until the metric is read. */
export interface BatchedHistogram {
  observe(value: number): void;
}

// prom-client's per-label-set histogram state (lib/histogram.js, 15.x). The flush writes into it because
// prom-client has no public way to add many observations at once; metric-batches.unit.spec.ts compares
// the result with prom-client's own `observe`, so an upgrade that changes this shape fails there.
interface HistogramEntry {
  labels: Record<string, string | number>;
  bucketValues: Record<string, number>;
  sum: number;
  count: number;
}
interface HistogramInternals {
  hashMap: Record<string, HistogramEntry>;
  upperBounds: readonly number[];
}

type Metric = Counter<string> | Histogram<string>;

const flushers = new WeakMap<Metric, Array<() => void>>();
const children = new WeakMap<Metric, Map<string, BatchedCounter | BatchedHistogram>>();

/** The `collect` hook of a batching metric: folds in what its batched children recorded since the last read. */
export function flushBatches(this: Metric): void {
  for (const flush of flushers.get(this) ?? []) flush();
}

const batches = (metric: Metric) => (metric as { collect?: unknown }).collect === flushBatches;

const flushersOf = (metric: Metric) => {
  let list = flushers.get(metric);
  if (!list) {
    list = [];
    flushers.set(metric, list);
  }
  return list;
};

const labelKey = (labels: Record<string, string | number | undefined>) =>
  Object.keys(labels)
    .sort()
    .map((name) => `${name}\u0000${labels[name]}`)
    .join('\u0001');

// One child per metric and label set, shared by every router, so routers created over and over (tests,
// restarts) with one registry add no flushers.
const childFor = <Child extends BatchedCounter | BatchedHistogram>(
  metric: Metric,
  labels: Record<string, string | number | undefined>,
  create: () => Child,
): Child => {
  let byLabels = children.get(metric);
  if (!byLabels) {
    byLabels = new Map();
    children.set(metric, byLabels);
  }
  const key = labelKey(labels);
  let child = byLabels.get(key) as Child | undefined;
  if (!child) {
    child = create();
    byLabels.set(key, child);
  }
  return child;
};

/** A child of `counter` for `labels`: batched when the counter was created with `collect: flushBatches`. */
export function batchedCounter<T extends string>(
  counter: Counter<T>,
  labels: LabelValues<T>,
): BatchedCounter {
  if (!batches(counter as Counter<string>)) {
    const child = counter.labels(labels);
    return { inc: () => child.inc() };
  }
  return childFor(counter as Counter<string>, labels, () => {
    let pending = 0;
    flushersOf(counter as Counter<string>).push(() => {
      if (pending === 0) return;
      const value = pending;
      pending = 0;
      counter.inc(labels, value);
    });
    return {
      inc: () => {
        pending++;
      },
    };
  });
}

const sameLabels = (a: Record<string, string | number>, b: Record<string, string | number | undefined>) => {
  const names = Object.keys(b);
  return Object.keys(a).length === names.length && names.every((name) => a[name] === b[name]);
};

/** A child of `histogram` for `labels`: batched when the histogram was created with `collect: flushBatches`. */
export function batchedHistogram<T extends string>(
  histogram: Histogram<T>,
  labels: LabelValues<T>,
): BatchedHistogram {
  const internals = histogram as unknown as Partial<HistogramInternals>;
  if (
    !batches(histogram as Histogram<string>) ||
    typeof internals.hashMap !== 'object' ||
    !Array.isArray(internals.upperBounds)
  ) {
    const child = histogram.labels(labels);
    return { observe: (value) => child.observe(value) };
  }
  return childFor(histogram as Histogram<string>, labels, () => {
    const bounds = internals.upperBounds!;
    const keys = bounds.map(String);
    const counts = new Array<number>(bounds.length).fill(0);
    let sum = 0;
    let count = 0;
    flushersOf(histogram as Histogram<string>).push(() => {
      if (count === 0) return;
      const state = histogram as unknown as HistogramInternals;
      let entry = Object.values(state.hashMap).find((candidate) => sameLabels(candidate.labels, labels));
      if (!entry) {
        histogram.zero(labels);
        entry = Object.values(state.hashMap).find((candidate) => sameLabels(candidate.labels, labels))!;
      }
      entry.sum += sum;
      entry.count += count;
      for (let i = 0; i < counts.length; i++) {
        if (counts[i] === 0) continue;
        entry.bucketValues[keys[i]!] = (entry.bucketValues[keys[i]!] ?? 0) + counts[i]!;
        counts[i] = 0;
      }
      sum = 0;
      count = 0;
    });
    return {
      observe: (value) => {
        if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
        // Like prom-client, a value above the last bound lands in no bucket, only in +Inf (the count).
        for (let i = 0; i < bounds.length; i++) {
          if (value <= bounds[i]!) {
            counts[i] = counts[i]! + 1;
            break;
          }
        }
        sum += value;
        count++;
      },
    };
  });
}
