import { describe, expect, it } from 'vitest';
import type { DeadLetterEntry } from '../../bus/dead-letter/dead-letter-queue.ts';
import { deadLetterSchema, deadLetterView } from './dead-letter-views.ts';

const entry = (id: string, parked: Partial<DeadLetterEntry>): DeadLetterEntry => ({
  id,
  event: undefined,
  eventId: 'e',
  eventType: 't',
  status: 'pending',
  parkedBehind: 0,
  failure: {
    errorType: 'Error',
    errorMessage: 'no',
    errorStack: '',
    attempts: 3,
    handler: 'g:t',
    firstFailureAt: 0,
    lastFailureAt: 0,
    sourceTopic: 'src',
    sourcePartition: 0,
    sourceOffset: 1n,
  },
  record: { topic: 'g.dlq', partition: 0, offset: 1n, key: 'k', value: null, headers: {}, timestamp: 0 },
  ...parked,
});

describe('dead-letter views', () => {
  it('show how many entries are parked behind a head, and which head a parked entry waits behind', () => {
    const head = deadLetterView(entry('0:1', { parkedBehind: 2 }));
    const parked = deadLetterView(entry('0:2', { parkedBehindEntry: '0:1' }));
    expect(head).toMatchObject({ parkedBehind: 2, parkedBehindEntry: null });
    expect(parked).toMatchObject({ parkedBehind: 0, parkedBehindEntry: '0:1' });
    expect(deadLetterSchema.parse(parked).parkedBehindEntry).toBe('0:1');
  });
});
