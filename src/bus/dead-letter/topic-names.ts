/** Name of a group's dead-letter topic. */
export function deadLetterTopic(group: string): string {
  return `${group}.dlq`;
}

/** Name of a group's delayed-retry topic for one delay, e.g. `admissions.retry.10s`. */
export function retryTopic(group: string, delayMs: number): string {
  return `${group}.retry.${delayLabel(delayMs)}`;
}

/** A delay as a short label: `250ms`, `10s`, `5m`, `2h`. */
export function delayLabel(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
