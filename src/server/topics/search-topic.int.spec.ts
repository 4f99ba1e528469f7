import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEmbeddedTransport, type EmbeddedTransport } from '../../transport/embedded/index.ts';
import type { JobContext } from '../jobs/job-registry.ts';
import { compileMessageFilter, messagePrefilter } from './message-filter.ts';
import { SEARCH_STEP, searchTopic } from './search-topic.ts';

const transports: EmbeddedTransport[] = [];
afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close()));
});

function recordingContext(abortAfterSteps: number) {
  const controller = new AbortController();
  const counts: Record<string, number> = {};
  const items: string[] = [];
  const progress: [number, number | undefined][] = [];
  const context: JobContext = {
    signal: controller.signal,
    progress(done, total) {
      progress.push([done, total]);
      if (progress.length > abortAfterSteps) controller.abort();
    },
    count(name, by = 1, item) {
      counts[name] = (counts[name] ?? 0) + by;
      if (item !== undefined) items.push(item);
    },
  };
  return { context, counts, progress, items };
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

  it('finds the same matches, in the same order, with its window split across scan threads as in place', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-search-threads-'));
    try {
      const path = join(dir, 'log.db');
      const threaded = createEmbeddedTransport({ path, synchronous: 'normal', maintenanceIntervalMs: 0 });
      const inPlace = createEmbeddedTransport({ path, synchronous: 'normal', scanThreads: 0 });
      transports.push(threaded, inPlace);
      await threaded.ensureTopics([{ name: 'wide', partitions: 3 }]);
      const records = (p: number) =>
        Array.from({ length: SEARCH_STEP + 5_000 }, (_, i) => ({
          key: `k${i % 50}`,
          value: new TextEncoder().encode(JSON.stringify({ n: i % 4_000, p })),
          headers: { ce_specversion: '1.0', ce_type: 't', 'content-type': 'application/json' },
        }));
      await threaded.append([0, 1, 2].map((p) => ({ topic: 'wide', partition: p, records: records(p) })));
      // Up before the first search, so every window of it is split across them.
      expect(await threaded.startScanThreads()).toBe(true);
      const topic = { name: 'wide', partitions: 3 };
      const filter = { where: ['data.n==3999'] };
      const run = async (transport: EmbeddedTransport, maxScan: number, maxMatches: number) => {
        const recorded = recordingContext(Number.POSITIVE_INFINITY);
        const prefilter = messagePrefilter(filter)!;
        const match = compileMessageFilter(filter);
        await searchTopic(transport, { topic, match, prefilter, maxScan, maxMatches }, recorded.context);
        return { counts: recorded.counts, items: recorded.items, progress: recorded.progress };
      };
      // Whole topic; a match bound reached inside a window; a scan bound cutting the second partition.
      for (const [maxScan, maxMatches] of [
        [1e9, 100],
        [1e9, 7],
        [SEARCH_STEP + 5_000 + 12_345, 100],
      ] as const) {
        const [split, single] = [
          await run(threaded, maxScan, maxMatches),
          await run(inPlace, maxScan, maxMatches),
        ];
        expect(split).toEqual(single);
        expect(split.items.length).toBeGreaterThan(0);
      }
      expect((await run(threaded, 1e9, 7)).items).toEqual([
        '0:3999',
        '0:7999',
        '0:11999',
        '0:15999',
        '0:19999',
        '0:23999',
        '1:3999',
      ]);
    } finally {
      await Promise.all(transports.splice(0).map((t) => t.close()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
