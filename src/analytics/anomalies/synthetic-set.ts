// A synthetic set with known anomalies, for measuring a detector: series of normal noise around a slowly
// drifting level (a heart rate, a rate of events), with spikes and drops injected at known points.

/** One point of a series; `injected` says whether it is one of the planted anomalies. */
export interface LabelledPoint {
  series: string;
  value: number;
  injected: boolean;
}

/** Mulberry32: a small seeded generator, so the set is the same on every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * `seriesCount` series of `length` points: level 50–150 drifting sinusoidally by ±10 % over the series,
 * Gaussian noise of 3 % of the level, and about `rate` of the points (after the first 50) replaced by a
 * spike or drop of 6 to 12 noise deviations.
 */
export function syntheticSet(seriesCount: number, length: number, rate: number, seed = 18): LabelledPoint[] {
  const random = seeded(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const points: LabelledPoint[] = [];
  for (let s = 0; s < seriesCount; s++) {
    const base = 50 + random() * 100;
    const sigma = base * 0.03;
    for (let i = 0; i < length; i++) {
      const level = base * (1 + 0.1 * Math.sin((2 * Math.PI * i) / length));
      const injected = i >= 50 && random() < rate;
      const jump = (6 + random() * 6) * sigma * (random() < 0.5 ? -1 : 1);
      points.push({
        series: `series-${s}`,
        value: level + gaussian() * sigma + (injected ? jump : 0),
        injected,
      });
    }
  }
  return points;
}
