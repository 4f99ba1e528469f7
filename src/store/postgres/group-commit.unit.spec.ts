import { describe, expect, it } from 'vitest';
import type { PreparedAppend } from '../prepare-append.ts';
import { compareCursors, decodeCheckpoint } from './commit-cursor.ts';
import { takeBatch } from './group-commit.ts';

const append = (streamId: string, ids: string[]): { append: PreparedAppend } => ({
  append: {
    streamId,
    expected: 'any',
    tenantId: undefined,
    events: ids.map((id) => ({
      id,
      type: 't',
      correlationId: null,
      event: {} as never,
      json: '{}',
      outboxTopic: null,
    })),
  },
});

describe('group commit: which queued appends share a statement', () => {
  it('takes appends to distinct streams with distinct ids, leaving the rest queued in order', () => {
    const queue = [
      append('a', ['1']),
      append('a', ['2']),
      append('b', ['1']),
      append('c', ['3']),
      append('b', ['4']),
    ];
    const batch = takeBatch(queue);
    expect(batch.map((q) => q.append.streamId)).toEqual(['a', 'c', 'b']);
    expect(queue.map((q) => `${q.append.streamId}:${q.append.events[0]!.id}`)).toEqual(['a:2', 'b:1']);
  });

  it('stops at 32 appends', () => {
    const queue = Array.from({ length: 40 }, (_, i) => append(`s-${i}`, [`id-${i}`]));
    expect(takeBatch(queue)).toHaveLength(32);
    expect(queue).toHaveLength(8);
  });
});

describe('postgres commit cursors', () => {
  it('decode `<transaction id>:<position>` and order by transaction id, then position', () => {
    expect(decodeCheckpoint(undefined)).toEqual({ transactionId: '0', position: '0' });
    expect(decodeCheckpoint('12:5')).toEqual({ transactionId: '12', position: '5' });
    expect(() => decodeCheckpoint('5')).toThrow(/not a postgres event store checkpoint/);
    expect(compareCursors(decodeCheckpoint('12:5'), decodeCheckpoint('11:9'))).toBe(1);
    expect(compareCursors(decodeCheckpoint('12:5'), decodeCheckpoint('12:9'))).toBe(-1);
    expect(compareCursors(decodeCheckpoint('12:5'), decodeCheckpoint('12:5'))).toBe(0);
  });
});
