import { describe, expect, it } from 'vitest';
import { createLingerBatcher, lingerOptionsSchema } from './linger-batcher.ts';

interface Item {
  name: string;
  size: number;
}

// The batcher's append is a parameter: this records what it is given and answers like a log would.
function recorder(fail?: (items: readonly Item[]) => Error | undefined) {
  const calls: string[][] = [];
  let next = 0n;
  return {
    calls,
    append: async (items: readonly Item[]) => {
      calls.push(items.map((item) => item.name));
      const error = fail?.(items);
      if (error) throw error;
      return items.map(() => next++);
    },
  };
}

const item = (name: string, size = 10): Item => ({ name, size });

describe('linger batcher', () => {
  it('shares one append among the calls made within the linger time, each getting its own offsets', async () => {
    const log = recorder();
    const batcher = createLingerBatcher<Item>({
      linger: lingerOptionsSchema.parse({ ms: 20 }),
      append: log.append,
      splitOn: () => false,
    });
    const started = performance.now();
    const results = await Promise.all([
      batcher.add([item('a')]),
      batcher.add([item('b'), item('c')]),
      batcher.add([item('d')]),
    ]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(15);
    expect(log.calls).toEqual([['a', 'b', 'c', 'd']]);
    expect(results).toEqual([[0n], [1n, 2n], [3n]]);
  });

  it('closes a batch at once when it reaches its event or byte limit, never over it', async () => {
    const log = recorder();
    const batcher = createLingerBatcher<Item>({
      linger: lingerOptionsSchema.parse({ ms: 60_000, maxEvents: 3, maxBytes: 100 }),
      append: log.append,
      splitOn: () => false,
    });
    await Promise.all([batcher.add([item('a')]), batcher.add([item('b')]), batcher.add([item('c')])]);
    expect(log.calls).toEqual([['a', 'b', 'c']]);
    const pending = [batcher.add([item('d', 60)]), batcher.add([item('e', 60)])];
    // d alone stays under 100 bytes; e would take the batch over, so d goes first and e waits.
    await pending[0];
    expect(log.calls).toEqual([['a', 'b', 'c'], ['d']]);
    batcher.flush();
    await pending[1];
    expect(log.calls).toEqual([['a', 'b', 'c'], ['d'], ['e']]);
  });

  it('retries call by call when a shared append is refused for one caller, and fails all on an outage', async () => {
    const refused = new Error('refused');
    const log = recorder((items) => (items.some((i) => i.name === 'bad') ? refused : undefined));
    const batcher = createLingerBatcher<Item>({
      linger: lingerOptionsSchema.parse({ ms: 1 }),
      append: log.append,
      splitOn: (error) => error === refused,
    });
    const outcomes = await Promise.allSettled([batcher.add([item('good')]), batcher.add([item('bad')])]);
    expect(outcomes[0]).toMatchObject({ status: 'fulfilled' });
    expect(outcomes[1]).toMatchObject({ status: 'rejected', reason: refused });
    expect(log.calls).toEqual([['good', 'bad'], ['good'], ['bad']]);

    const down = new Error('down');
    const outage = createLingerBatcher<Item>({
      linger: lingerOptionsSchema.parse({ ms: 1 }),
      append: recorder(() => down).append,
      splitOn: () => false,
    });
    const failed = await Promise.allSettled([outage.add([item('x')]), outage.add([item('y')])]);
    expect(failed.map((f) => f.status)).toEqual(['rejected', 'rejected']);
  });
});
