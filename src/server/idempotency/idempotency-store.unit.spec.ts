import { describe, expect, it } from 'vitest';
import { createIdempotencyStore } from './idempotency-store.ts';

const key = (id: string, hash = 'h1') => ({ source: 'urn:s', id, hash });
const receipt = (id: string, offset: string) => ({ id, type: 't', topic: 'x', partition: 0, offset });

function store(leaseMs = 1_000) {
  let now = 1_000_000;
  const opened = createIdempotencyStore({
    path: ':memory:',
    synchronous: 'normal',
    retentionMs: 10_000,
    leaseMs,
    now: () => now,
  });
  return { opened, advance: (ms: number) => (now += ms) };
}

describe('idempotency store', async () => {
  it('reserves unknown keys, then replays them once completed', async () => {
    const { opened } = store();
    expect(opened.reserve([key('a')], 't1')).toEqual({ kind: 'ok', receipts: [undefined] });
    await opened.complete('t1', [{ key: key('a'), receipt: receipt('a', '7') }]);
    expect(opened.reserve([key('a')], 't2')).toEqual({ kind: 'ok', receipts: [receipt('a', '7')] });
  });

  it('answers busy while another token holds a key, and reserves nothing of the request', async () => {
    const { opened } = store();
    opened.reserve([key('a')], 't1');
    expect(opened.reserve([key('b'), key('a')], 't2')).toEqual({ kind: 'busy' });
    // b was not reserved by the refused request: a third one gets it.
    expect(opened.reserve([key('b')], 't3')).toEqual({ kind: 'ok', receipts: [undefined] });
  });

  it('names keys held with other content as conflicts, pending or done', async () => {
    const { opened } = store();
    opened.reserve([key('a')], 't1');
    expect(opened.reserve([key('a', 'h2')], 't2')).toEqual({ kind: 'conflict', keys: [key('a', 'h2')] });
    await opened.complete('t1', [{ key: key('a'), receipt: receipt('a', '1') }]);
    expect(opened.reserve([key('a', 'h2')], 't2')).toMatchObject({ kind: 'conflict' });
  });

  it('frees a released key, and lets a key whose lease ran out be taken over', async () => {
    const { opened, advance } = store(1_000);
    opened.reserve([key('a')], 't1');
    opened.release('t1');
    expect(opened.reserve([key('a')], 't2').kind).toBe('ok');
    advance(1_001);
    expect(opened.reserve([key('a')], 't3').kind).toBe('ok');
    // The first owner's late completion no longer counts: the key is t3's.
    await opened.complete('t2', [{ key: key('a'), receipt: receipt('a', '1') }]);
    expect(opened.reserve([key('a')], 't4')).toEqual({ kind: 'busy' });
  });

  it('forgets and prunes entries past the retention', async () => {
    const { opened, advance } = store();
    opened.reserve([key('a'), key('b')], 't1');
    await opened.complete('t1', [
      { key: key('a'), receipt: receipt('a', '1') },
      { key: key('b'), receipt: receipt('b', '2') },
    ]);
    advance(10_001);
    expect(opened.reserve([key('a', 'other')], 't2')).toEqual({ kind: 'ok', receipts: [undefined] });
    expect(opened.prune()).toBe(1);
  });
});
