/** Percentile (0-100) of a list of numbers, by nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** One line of the results table. */
export interface BenchResult {
  /** What was measured. */
  name: string;
  /** The figure, in `unit`. */
  value: number;
  unit: string;
  /** The target, in `unit`, when the issue set one. */
  target?: number;
  /** Whether higher (`>=`) or lower (`<=`) values meet the target. */
  better?: 'higher' | 'lower';
  /** Extra context: sample counts, ratios, settings. */
  note?: string;
}
