// Robust z-score over a rolling window per key: distance from the window's median in units of its median
// absolute deviation (scaled by 1.4826 to match a standard deviation on normal data), so the anomalies
// themselves barely move the baseline they are measured against.
import { z } from 'zod';
import { parseOptions } from '../../errors/options.ts';

const detectorOptionsSchema = z.object({
  /** Values per key the baseline is computed over; default 100. */
  window: z.number().int().min(5).default(100),
  /** Values a key needs before anything is flagged; default 30. */
  warmup: z.number().int().min(5).default(30),
  /** Robust z-score beyond which a value is an anomaly; default 4.5. */
  threshold: z.number().positive().default(4.5),
  /** Smallest spread assumed, in the values' unit, so a constant series does not flag every wobble; default 1e-9. */
  minSpread: z.number().nonnegative().default(1e-9),
});

/** Options of a robust z-score detector. */
export type DetectorOptions = z.input<typeof detectorOptionsSchema>;

/** The verdict on one value. */
export interface Verdict {
  anomaly: boolean;
  /** Robust z-score of the value; NaN during warm-up. */
  score: number;
  /** The band a normal value falls in (median ± threshold × spread); absent during warm-up. */
  expected?: { low: number; high: number };
}

/** Judges values per key against the key's recent history. */
export interface AnomalyDetector {
  /** Judges `value` for `key`; values judged normal join the key's baseline, anomalies do not. */
  observe(key: string, value: number): Verdict;
}

/** Makes a robust z-score detector. */
export function createRobustZScoreDetector(options: DetectorOptions = {}): AnomalyDetector {
  const settings = parseOptions(detectorOptionsSchema, options, 'anomalyDetector');
  const history = new Map<string, number[]>();
  return {
    observe(key, value) {
      let values = history.get(key);
      if (values === undefined) {
        values = [];
        history.set(key, values);
      }
      if (values.length < settings.warmup) {
        values.push(value);
        return { anomaly: false, score: Number.NaN };
      }
      const center = median(values);
      const spread = Math.max(1.4826 * median(values.map((v) => Math.abs(v - center))), settings.minSpread);
      const score = (value - center) / spread;
      const anomaly = Math.abs(score) > settings.threshold;
      if (!anomaly) {
        values.push(value);
        if (values.length > settings.window) values.shift();
      }
      const band = settings.threshold * spread;
      return { anomaly, score, expected: { low: center - band, high: center + band } };
    },
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
