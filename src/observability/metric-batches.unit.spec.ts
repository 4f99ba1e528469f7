import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { batchedCounter, batchedHistogram, flushBatches } from './metric-batches.ts';

const buckets = [0.001, 0.01, 0.1, 1];
const histogramIn = (registry: Registry, batching: boolean) =>
  new Histogram({
    name: 'd_seconds',
    help: 'd',
    labelNames: ['group', 'type'],
    buckets,
    registers: [registry],
    ...(batching ? { collect: flushBatches } : {}),
  });
const counterIn = (registry: Registry, batching: boolean) =>
  new Counter({
    name: 'c_total',
    help: 'c',
    labelNames: ['group', 'outcome'],
    registers: [registry],
    ...(batching ? { collect: flushBatches } : {}),
  });

const withoutSum = (text: string) => text.replace(/^d_seconds_sum.*$/m, '');
const sumIn = (text: string) => Number(/^d_seconds_sum{[^}]*} (\S+)$/m.exec(text)?.[1]);

describe('batched metric children', () => {
  it('expose exactly what prom-client exposes for the same observations, on every read', async () => {
    const plain = new Registry();
    const batched = new Registry();
    const plainHistogram = histogramIn(plain, false);
    const plainCounter = counterIn(plain, false);
    const histogram = histogramIn(batched, true);
    const counter = counterIn(batched, true);
    const fast = batchedHistogram(histogram, { group: 'g', type: 't' });
    const handled = batchedCounter(counter, { group: 'g', outcome: 'handled' });
    // Direct prom-client calls on the same label set add up with the batched ones.
    histogram.observe({ group: 'g', type: 't' }, 0.5);
    plainHistogram.observe({ group: 'g', type: 't' }, 0.5);
    counter.inc({ group: 'g', outcome: 'handled' }, 2);
    plainCounter.inc({ group: 'g', outcome: 'handled' }, 2);

    const rounds = [[0.0001, 0.001, 0.002, 0.05, 5], [0.3, 0.0005], []];
    for (const values of rounds) {
      for (const value of values) {
        fast.observe(value);
        plainHistogram.labels({ group: 'g', type: 't' }).observe(value);
        handled.inc();
        plainCounter.inc({ group: 'g', outcome: 'handled' });
      }
      const [fastText, plainText] = [await batched.metrics(), await plain.metrics()];
      // Sums add in a different order, so they may differ in the last bits.
      expect(withoutSum(fastText)).toBe(withoutSum(plainText));
      expect(sumIn(fastText)).toBeGreaterThan(0);
      expect(sumIn(fastText)).toBeCloseTo(sumIn(plainText), 12);
    }
  });

  it('create the label set on first read and start again after a reset', async () => {
    const registry = new Registry();
    const histogram = histogramIn(registry, true);
    const fast = batchedHistogram(histogram, { group: 'g', type: 'new' });
    fast.observe(0.002);
    expect(await registry.getSingleMetricAsString('d_seconds')).toMatch(
      /d_seconds_bucket{le="0.01",group="g",type="new"} 1\n[\s\S]*d_seconds_count{group="g",type="new"} 1/,
    );
    registry.resetMetrics();
    fast.observe(0.2);
    const text = await registry.getSingleMetricAsString('d_seconds');
    expect(text).toMatch(/d_seconds_bucket{le="0.01",group="g",type="new"} 0/);
    expect(text).toMatch(/d_seconds_count{group="g",type="new"} 1/);
    expect(text).toMatch(/d_seconds_sum{group="g",type="new"} 0.2/);
  });

  it('share one child per metric and label set, so repeated routers add no flushers', () => {
    const histogram = histogramIn(new Registry(), true);
    expect(batchedHistogram(histogram, { group: 'g', type: 't' })).toBe(
      batchedHistogram(histogram, { type: 't', group: 'g' }),
    );
    expect(batchedHistogram(histogram, { group: 'g', type: 't' })).not.toBe(
      batchedHistogram(histogram, { group: 'g', type: 'u' }),
    );
  });

  it('write straight to prom-client for a metric without the collect hook', async () => {
    const registry = new Registry();
    const histogram = histogramIn(registry, false);
    const counter = counterIn(registry, false);
    batchedHistogram(histogram, { group: 'g', type: 't' }).observe(0.05);
    batchedCounter(counter, { group: 'g', outcome: 'failed' }).inc();
    // Read the internal state without a collect: the values are there already.
    const values = (await histogram.get()).values;
    expect(values.find((v) => v.metricName === 'd_seconds_count')?.value).toBe(1);
    expect((await counter.get()).values[0]?.value).toBe(1);
  });

  it('reject a value that is not a finite number, as prom-client does', () => {
    const fast = batchedHistogram(histogramIn(new Registry(), true), { group: 'g', type: 't' });
    expect(() => fast.observe(Number.NaN)).toThrow(TypeError);
  });
});
