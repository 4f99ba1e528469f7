import type { ProduceResult } from '@platformatic/kafka';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { MAX_TIMESTAMP_DELTA, type QueuedWrite } from './produce-queue.ts';
import type { ProducedMessage } from './record-codec.ts';
import {
  assignOffsets,
  chunkMessages,
  createTransactionQueue,
  runAgainBeforeCommit,
  type TransactionProgress,
} from './transaction-queue.ts';

const message = (topic: string, partition: number, timestamp = 0n): ProducedMessage => ({
  topic,
  partition,
  value: Buffer.from('v'),
  headers: new Map(),
  timestamp,
});
const write = (topic: string, partition: number, count: number, size = 10, timestamp = 0n): QueuedWrite => ({
  topic,
  partition,
  messages: Array.from({ length: count }, () => message(topic, partition, timestamp)),
  sizes: Array.from({ length: count }, () => size),
});

/** A stand-in for the brokers: each produce request gets the next offsets of its partitions. */
const fakeBrokers = () => {
  const ends = new Map<string, bigint>();
  const transactions: ProducedMessage[][][] = [];
  const answer = (chunk: readonly ProducedMessage[]): ProduceResult => {
    const offsets: Array<{ topic: string; partition: number; offset: bigint }> = [];
    const counts = new Map<string, { topic: string; partition: number; count: bigint }>();
    for (const m of chunk) {
      const id = `${m.topic}/${m.partition}`;
      const entry = counts.get(id) ?? { topic: m.topic, partition: m.partition!, count: 0n };
      entry.count++;
      counts.set(id, entry);
    }
    for (const [id, { topic, partition, count }] of counts) {
      const base = ends.get(id) ?? 0n;
      ends.set(id, base + count);
      offsets.push({ topic, partition, offset: base });
    }
    return { offsets };
  };
  // A commit marker follows each transaction's records in every partition it wrote.
  const commit = (chunks: readonly ProducedMessage[][]): ProduceResult[] => {
    const results = chunks.map(answer);
    for (const id of new Set(chunks.flat().map((m) => `${m.topic}/${m.partition}`)))
      ends.set(id, (ends.get(id) ?? 0n) + 1n);
    return results;
  };
  return { transactions, commit };
};

describe('Kafka transaction queue', () => {
  it('cuts a transaction into produce requests by records, bytes and timestamp spread, keeping order', () => {
    const far = BigInt(Date.now());
    const appends = [
      { writes: [write('a', 0, 3), write('b', 1, 2)] },
      { writes: [write('a', 0, 1, 10, far + MAX_TIMESTAMP_DELTA)] },
    ];
    const byRecords = chunkMessages(appends, 2, 1_000);
    expect(byRecords.chunks.map((c) => c.length)).toEqual([2, 2, 2]);
    const byBytes = chunkMessages(appends, 100, 25);
    expect(byBytes.chunks.map((c) => c.length)).toEqual([2, 2, 2]);
    // The last record is too far in time from its partition's first in the request: it starts a new one.
    const bySpread = chunkMessages(appends, 100, 1_000);
    expect(bySpread.chunks.map((c) => c.length)).toEqual([5, 1]);
    expect(bySpread.placements.map((p) => [p.append, p.write, p.index, p.chunk])).toEqual([
      [0, 0, 0, 0],
      [0, 0, 1, 0],
      [0, 0, 2, 0],
      [0, 1, 0, 0],
      [0, 1, 1, 0],
      [1, 0, 0, 1],
    ]);
  });

  it('gives each record its offset from the base offset of its request and partition', () => {
    const appends = [{ writes: [write('a', 0, 3), write('b', 0, 1)] }, { writes: [write('a', 0, 2)] }];
    const { chunks, placements } = chunkMessages(appends, 4, 1_000);
    const results: ProduceResult[] = [
      {
        offsets: [
          { topic: 'a', partition: 0, offset: 10n },
          { topic: 'b', partition: 0, offset: 7n },
        ],
      },
      { offsets: [{ topic: 'a', partition: 0, offset: 20n }] },
    ];
    expect(chunks.map((c) => c.length)).toEqual([4, 2]);
    expect(assignOffsets(placements, results, appends)).toEqual([[[10n, 11n, 12n], [7n]], [[20n, 21n]]]);
    expect(() => assignOffsets(placements, [results[0]!, { offsets: [] }], appends)).toThrow(
      /did not acknowledge a\[0\]/,
    );
  });

  it('shares one transaction between appends made together, never splits one, and fails those behind a failed one', async () => {
    const brokers = fakeBrokers();
    let fail = false;
    const queue = createTransactionQueue({
      run: async (chunks) => {
        brokers.transactions.push(chunks);
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (fail) throw new Error('coordinator unavailable');
        return brokers.commit(chunks);
      },
      logger: pino({ level: 'silent' }),
      maxBatchRecords: 5,
      maxBatchBytes: 1_000,
      mapError: (error) => new Error(`atomic append failed: ${(error as Error).message}`),
    });
    const together = await Promise.all([
      queue.enqueue([write('a', 0, 2), write('b', 0, 1)]),
      queue.enqueue([write('a', 0, 2)]),
      // Larger than a batch: alone, whole, over several requests of one transaction.
      queue.enqueue([write('a', 0, 7)]),
    ]);
    expect(brokers.transactions.map((t) => t.map((c) => c.length))).toEqual([[5], [5, 2]]);
    expect(together).toEqual([[[0n, 1n], [0n]], [[2n, 3n]], [[5n, 6n, 7n, 8n, 9n, 10n, 11n]]]);
    expect(await queue.enqueue([])).toEqual([]);

    fail = true;
    const first = queue.enqueue([write('a', 0, 1)]);
    await new Promise((resolve) => setImmediate(resolve));
    const behind = queue.enqueue([write('a', 0, 1)]);
    await expect(first).rejects.toThrow('atomic append failed: coordinator unavailable');
    await expect(behind).rejects.toThrow('atomic append failed: coordinator unavailable');
    fail = false;
    expect(await queue.enqueue([write('b', 0, 1)])).toEqual([[2n]]);
    await queue.drain();
  });
});

describe('runAgainBeforeCommit', () => {
  const silent = pino({ level: 'silent' });
  const curable = Object.assign(new Error('leader moved'), { curable: true });
  const options = (attempt: (progress: TransactionProgress) => Promise<ProduceResult[]>) => {
    const calls = { attempts: 0, refreshes: 0 };
    const run = runAgainBeforeCommit({
      attempt: (_chunks, progress) => {
        calls.attempts++;
        return attempt(progress);
      },
      deliveryTimeoutMs: 10_000,
      isCurable: (error) => (error as { curable?: boolean }).curable === true,
      refresh: () => {
        calls.refreshes++;
      },
      logger: silent,
      mapError: (error) => error as Error,
    });
    return { run, calls };
  };

  it('runs a transaction that failed before its commit again, with fresh leaders, until it commits', async () => {
    let failures = 2;
    const { run, calls } = options(async () => {
      if (failures-- > 0) throw curable;
      return [{ offsets: [] }];
    });
    await expect(run([])).resolves.toEqual([{ offsets: [] }]);
    expect(calls).toEqual({ attempts: 3, refreshes: 2 });
  });

  it('never runs a failed commit again, nor one whose error running again cannot cure', async () => {
    const committing = options(async (progress) => {
      progress.committing = true;
      throw curable;
    });
    await expect(committing.run([])).rejects.toBe(curable);
    expect(committing.calls.attempts).toBe(1);
    const incurable = new Error('record too large');
    const refused = options(async () => {
      throw incurable;
    });
    await expect(refused.run([])).rejects.toBe(incurable);
    expect(refused.calls.attempts).toBe(1);
  });
});
