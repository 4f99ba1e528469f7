import { afterEach, describe, expect, it } from 'vitest';
import { createEmbeddedTransport, type EmbeddedTransport } from '../../transport/embedded/index.ts';
import type { JobContext } from '../jobs/job-registry.ts';
import { SEARCH_STEP, searchTopic } from './search-topic.ts';

const transports: EmbeddedTransport[] = [];
afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close()));
});

function recordingContext(abortAfterSteps: number) {
  const controller = new AbortController();
  const counts: Record<string, number> = {};
  const progress: [number, number | undefined][] = [];
  const context: JobContext = {
    signal: controller.signal,
    progress(done, total) {
      progress.push([done, total]);
      if (progress.length > abortAfterSteps) controller.abort();
    },
    count(name, by = 1) {
      counts[name] = (counts[name] ?? 0) + by;
    },
  };
  return { context, counts, progress };
}

describe('searchTopic', () => {
  it('scans in steps, reporting progress after each, and stops at the next step once cancelled', async () => {
    const transport = createEmbeddedTransport({ path: ':memory:' });
    transports.push(transport);
    await transport.ensureTopics([{ name: 'big', partitions: 2 }]);
    const records = Array.from({ length: SEARCH_STEP + 1_000 }, (_, i) => ({
      key: `k${i}`,
      value: null,
      headers: {},
    }));
    await transport.append([
      { topic: 'big', partition: 0, records },
      { topic: 'big', partition: 1, records },
    ]);
    const topic = { name: 'big', partitions: 2 };

    const whole = recordingContext(Number.POSITIVE_INFINITY);
    await searchTopic(
      transport,
      { topic, match: (r) => r.key === 'k7', maxScan: 1e9, maxMatches: 10 },
      whole.context,
    );
    expect(whole.counts).toEqual({ scanned: 2 * (SEARCH_STEP + 1_000), matched: 2 });
    expect(whole.progress.at(-1)).toEqual([2 * (SEARCH_STEP + 1_000), 2 * (SEARCH_STEP + 1_000)]);
    expect(whole.progress.length).toBeGreaterThan(2);

    const cancelled = recordingContext(1);
    await searchTopic(
      transport,
      { topic, match: undefined, maxScan: 1e9, maxMatches: 1e9 },
      cancelled.context,
    );
    expect(cancelled.counts.scanned).toBe(SEARCH_STEP);
  });
});
