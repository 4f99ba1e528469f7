import { describe, expect, it } from 'vitest';
import type { StoredRecord } from '../../transport/transport.ts';
import { fakeConsumer, storedRecord } from '../test-support/fake-consumer.ts';
import { createDelayedRetries } from './delayed-retries.ts';

const due = (offset: number, dueAt: number) =>
  storedRecord(
    offset,
    'k',
    { keel_error_type: 'Error', keel_source_topic: 'src', keel_due_at: String(dueAt) },
    'g.retry.1s',
  );

describe('delayed-retry scheduler', () => {
  it('dispatches a due record at once and holds a later one, its partition paused until it is due', async () => {
    const member = fakeConsumer();
    const dispatched: StoredRecord[] = [];
    const delayed = createDelayedRetries({
      topics: ['g.retry.1s'],
      dispatch: (record) => void dispatched.push(record),
      isRunning: () => true,
      isPaused: () => false,
    });
    expect(delayed.holds('g.retry.1s')).toBe(true);
    expect(delayed.holds('src')).toBe(false);
    delayed.add(due(0, Date.now() - 1), member);
    expect(dispatched.map((r) => r.offset)).toEqual([0n]);
    expect(member.resumed).toEqual([{ topic: 'g.retry.1s', partition: 0 }]);
    delayed.add(due(1, Date.now() + 40), member);
    delayed.add(due(2, Date.now() + 40), member);
    expect(dispatched).toHaveLength(1);
    expect(delayed.waiting()).toBe(2);
    expect(delayed.isWaiting('g.retry.1s', 0)).toBe(true);
    expect(member.paused).toEqual([{ topic: 'g.retry.1s', partition: 0 }]);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(dispatched.map((r) => r.offset)).toEqual([0n, 1n, 2n]);
    expect(delayed.isWaiting('g.retry.1s', 0)).toBe(false);
    expect(member.resumed).toHaveLength(2);
  });

  it('leaves an emptied partition paused while the router is paused, and drops what waits on revoke', async () => {
    const member = fakeConsumer();
    const dispatched: StoredRecord[] = [];
    const delayed = createDelayedRetries({
      topics: ['g.retry.1s'],
      dispatch: (record) => void dispatched.push(record),
      isRunning: () => true,
      isPaused: () => true,
    });
    delayed.add(due(0, Date.now() - 1), member);
    expect(member.resumed).toEqual([]);
    delayed.add(due(1, Date.now() + 30), member);
    delayed.drop(['g.retry.1s\u00000']);
    expect(delayed.waiting()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(dispatched.map((r) => r.offset)).toEqual([0n]);
  });
});
