import { describe, expect, it } from 'vitest';
import { InvalidCheckpointError } from './errors.ts';
import type { ReadAllOptions, ReadAllPage, StoredEvent } from './event-store.ts';
import { startSubscription } from './subscription.ts';

const stored = (n: number): StoredEvent => ({
  event: { specversion: '1.0', id: `e${n}`, source: '/t', type: 't' },
  streamId: 's',
  version: n,
  position: BigInt(n),
  tenantId: 'default',
  recordedAt: new Date(0),
  checkpoint: String(n),
});

/** A readAll over events 1..count, failing as told: `failures` maps a call number (from 1) to its error. */
function fakeReadAll(count: number, failures: Map<number, Error> = new Map()) {
  const calls: ReadAllOptions[] = [];
  const readAll = async (options: ReadAllOptions): Promise<ReadAllPage> => {
    calls.push(options);
    const failure = failures.get(calls.length);
    if (failure) throw failure;
    const from = options.after === undefined ? 0 : Number(options.after);
    const max = options.maxCount ?? 1000;
    const events = Array.from({ length: Math.max(0, Math.min(max, count - from)) }, (_, i) =>
      stored(from + i + 1),
    );
    return {
      events,
      next: events.at(-1)?.checkpoint ?? (count > 0 ? String(count) : options.after),
      hasMore: events.length === max,
    };
  };
  return { readAll, calls };
}

// Caught up, the loop waits a little (a real timer, so the test itself gets to run).
const noWait = () => new Promise<void>((resolve) => setTimeout(resolve, 1));
const connectionLost = () =>
  Object.assign(new Error('write CONNECTION_CLOSED'), { code: 'CONNECTION_CLOSED' });

describe('catch-up subscription', () => {
  it('retries failed reads with growing waits and carries on from its checkpoint, nothing skipped or repeated', async () => {
    const { readAll } = fakeReadAll(
      7,
      new Map([
        [2, connectionLost()],
        [3, connectionLost()],
        [4, connectionLost()],
      ]),
    );
    const got: string[] = [];
    const failures: number[] = [];
    const subscription = startSubscription(readAll, async () => undefined, noWait, {
      handler: (e) => void got.push(e.event.id),
      batchSize: 3,
      pollIntervalMs: 1,
      retry: { initialDelayMs: 1, maxDelayMs: 4 },
      onReadError: (_, attempt) => failures.push(attempt),
    });
    const deadline = Date.now() + 2_000;
    while (got.length < 7 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    await subscription.stop();
    expect(got).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7']);
    expect(failures).toEqual([1, 2, 3]);
    expect(subscription.checkpoint).toBe('7');
  });

  it('stops on an error a retry cannot cure, and after maxAttempts failed reads in a row', async () => {
    const bad = fakeReadAll(3, new Map([[1, new InvalidCheckpointError('x', 'sqlite')]]));
    const refused = startSubscription(bad.readAll, async () => undefined, noWait, { handler: () => {} });
    await expect(refused.done).rejects.toMatchObject({ code: 'KEEL_STORE_INVALID_CHECKPOINT' });
    expect(bad.calls).toHaveLength(1);
    const down = fakeReadAll(3, new Map([1, 2, 3, 4].map((n) => [n, connectionLost()])));
    const givenUp = startSubscription(down.readAll, async () => undefined, noWait, {
      handler: () => {},
      retry: { initialDelayMs: 1, maxDelayMs: 1, maxAttempts: 3 },
    });
    await expect(givenUp.done).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
    expect(down.calls).toHaveLength(3);
  });

  it('a stop during a backoff wait ends it at once', async () => {
    const { readAll } = fakeReadAll(3, new Map([[1, connectionLost()]]));
    const subscription = startSubscription(readAll, async () => undefined, noWait, {
      handler: () => {},
      retry: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
    });
    await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    await subscription.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect(subscription.done).resolves.toBeUndefined();
  });

  it("startFrom 'latest' begins after the head checkpoint", async () => {
    const { readAll, calls } = fakeReadAll(5);
    const got: string[] = [];
    const subscription = startSubscription(readAll, async () => '5', noWait, {
      handler: (e) => void got.push(e.event.id),
      startFrom: 'latest',
      pollIntervalMs: 1,
    });
    await new Promise((r) => setTimeout(r, 20));
    await subscription.stop();
    expect(got).toEqual([]);
    expect(calls[0]!.after).toBe('5');
  });

  it('reads the next full page while the handler works through the current one', async () => {
    const { readAll, calls } = fakeReadAll(9);
    let releaseFirst: () => void = () => {};
    const firstHeld = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    const got: string[] = [];
    const subscription = startSubscription(readAll, async () => undefined, noWait, {
      batchSize: 3,
      pollIntervalMs: 1,
      handler: async (e) => {
        if (e.event.id === 'e1') await firstHeld;
        got.push(e.event.id);
      },
    });
    await new Promise((r) => setTimeout(r, 20));
    // Still on the first event, the second page has been asked for already.
    expect(calls.map((c) => c.after)).toEqual([undefined, '3']);
    releaseFirst();
    const deadline = Date.now() + 2_000;
    while (got.length < 9 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    await subscription.stop();
    expect(got).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7', 'e8', 'e9']);
  });
});
