import { describe, expect, it } from 'vitest';
import { createRobustZScoreDetector } from './robust-z-score.ts';
import { syntheticSet } from './synthetic-set.ts';

describe('robust z-score detector', () => {
  it('finds injected anomalies with precision and recall of at least 0.9 on the synthetic set', () => {
    const detector = createRobustZScoreDetector();
    let truePositives = 0;
    let falsePositives = 0;
    let falseNegatives = 0;
    for (const point of syntheticSet(50, 2_000, 0.01)) {
      const { anomaly } = detector.observe(point.series, point.value);
      if (anomaly && point.injected) truePositives++;
      else if (anomaly) falsePositives++;
      else if (point.injected) falseNegatives++;
    }
    const precision = truePositives / (truePositives + falsePositives);
    const recall = truePositives / (truePositives + falseNegatives);
    console.info(
      `precision ${precision.toFixed(3)}, recall ${recall.toFixed(3)} (${truePositives} found, ${falsePositives} false, ${falseNegatives} missed)`,
    );
    expect(truePositives + falseNegatives).toBeGreaterThan(500);
    expect(precision).toBeGreaterThanOrEqual(0.9);
    expect(recall).toBeGreaterThanOrEqual(0.9);
  });

  it('gives the expected band, flags a spike, and keeps the spike out of the baseline', () => {
    const detector = createRobustZScoreDetector({ warmup: 5, window: 10, threshold: 4 });
    for (const v of [100, 101, 99, 100, 102, 98]) detector.observe('hr', v);
    const spike = detector.observe('hr', 160);
    expect(spike.anomaly).toBe(true);
    expect(spike.expected!.low).toBeLessThan(100);
    expect(spike.expected!.high).toBeGreaterThan(100);
    expect(spike.expected!.high).toBeLessThan(110);
    // The spike did not widen the band: the same value is flagged again.
    expect(detector.observe('hr', 160).anomaly).toBe(true);
    expect(detector.observe('hr', 101).anomaly).toBe(false);
    expect(detector.observe('other', 160).anomaly).toBe(false);
  });
});
