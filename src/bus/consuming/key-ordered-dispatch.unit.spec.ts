import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { StoredRecord } from '../../transport/transport.ts';
import { fakeConsumer, storedRecord } from '../test-support/fake-consumer.ts';
import { createCommitLoop } from './commit-loop.ts';
import { createKeyOrderedDispatch } from './key-ordered-dispatch.ts';

const logger = pino({ level: 'silent' });
const tick = (ms = 1) => new Promise((resolve) => setTimeout(resolve, ms));

/** A dispatch whose records are handled by `handle`, with a commit loop on a fake member. */
function setUp(handle: (record: StoredRecord) => Promise<boolean>) {
  const consumer = fakeConsumer();
  const commits = createCommitLoop({
    consumer: () => consumer,
    intervalMs: 60_000,
    logger,
    signal: new AbortController().signal,
  });
  return { consumer, commits, dispatch: createKeyOrderedDispatch({ handle, commits, logger }) };
}

describe('key-ordered dispatch', () => {
  it('runs the records of one key one after another, and different keys at once', async () => {
    const log: string[] = [];
    let active = 0;
    let maxActive = 0;
    const { dispatch } = setUp(async (record) => {
      active++;
      maxActive = Math.max(maxActive, active);
      log.push(`start ${record.key}${record.offset}`);
      await tick(record.key === 'a' ? 10 : 1);
      log.push(`end ${record.key}${record.offset}`);
      active--;
      return true;
    });
    dispatch.dispatch(storedRecord(0, 'a'));
    dispatch.dispatch(storedRecord(1, 'b'));
    dispatch.dispatch(storedRecord(2, 'a'));
    expect(dispatch.buffered()).toBe(3);
    expect(await dispatch.waitForDrain(() => true, 5_000)).toBe(true);
    expect(dispatch.buffered()).toBe(0);
    expect(maxActive).toBe(2);
    expect(log.indexOf('start a2')).toBeGreaterThan(log.indexOf('end a0'));
    expect(log.indexOf('end b1')).toBeLessThan(log.indexOf('end a0'));
  });

  it('commits a record handled or handed on, and not one interrupted', async () => {
    const { consumer, commits, dispatch } = setUp(async (record) => record.offset !== 1n);
    for (const offset of [0, 1, 2]) dispatch.dispatch(storedRecord(offset, null));
    await tick(5);
    commits.stop();
    await commits.commit();
    expect(consumer.commits).toEqual([[{ topic: 't', partition: 0, offset: 1n }]]);
    expect(await dispatch.waitForDrain(() => true, 20)).toBe(false);
  });

  it('goes on with the next record of a key after one whose handling threw', async () => {
    const handled: bigint[] = [];
    const { dispatch } = setUp(async (record) => {
      if (record.offset === 0n) throw new Error('bug');
      handled.push(record.offset);
      return true;
    });
    dispatch.dispatch(storedRecord(0, 'k'));
    dispatch.dispatch(storedRecord(1, 'k'));
    await tick(5);
    expect(handled).toEqual([1n]);
  });

  it('wakes a wait for a done record', async () => {
    let finish = () => {};
    const { dispatch } = setUp(() => new Promise<boolean>((resolve) => (finish = () => resolve(true))));
    dispatch.dispatch(storedRecord(0, 'k'));
    let woken = false;
    void dispatch.whenRecordDone().then(() => (woken = true));
    await tick();
    expect(woken).toBe(false);
    finish();
    await tick();
    expect(woken).toBe(true);
  });
});
