import { describe, expect, it } from 'vitest';
import type { PartitionBatch } from './idempotent-sender.ts';
import { classifyPartitionAnswer } from './produce-link.ts';

const batch: PartitionBatch = { topic: 't', partition: 3, messages: [], firstSequence: 7 };
const answer = (errorCode: number) => ({ index: 3, errorCode, baseOffset: errorCode === 0 ? 42n : -1n });

describe('a partition answer to a produce request', () => {
  it('is written with its base offset when the broker took the batch', () => {
    expect(classifyPartitionAnswer(batch, answer(0))).toEqual({ batch, status: 'written', baseOffset: 42n });
  });

  it('is written, at an unknown offset, when the broker calls it a duplicate', () => {
    expect(classifyPartitionAnswer(batch, answer(46))).toMatchObject({ status: 'written', baseOffset: -1n });
  });

  it.each([
    [6, 'NOT_LEADER_OR_FOLLOWER'],
    [7, 'REQUEST_TIMED_OUT'],
    [19, 'NOT_ENOUGH_REPLICAS'],
    [20, 'NOT_ENOUGH_REPLICAS_AFTER_APPEND'],
    [74, 'FENCED_LEADER_EPOCH'],
  ])('goes again, unchanged, on error %i (%s)', (code, name) => {
    const outcome = classifyPartitionAnswer(batch, answer(code));
    expect(outcome.status).toBe('retry');
    expect((outcome as { error: Error }).error.message).toBe(`t[3]: ${name}`);
  });

  it.each([
    [45, 'OUT_OF_ORDER_SEQUENCE_NUMBER'],
    [47, 'INVALID_PRODUCER_EPOCH'],
    [59, 'UNKNOWN_PRODUCER_ID'],
  ])('needs a new session on error %i (%s)', (code) => {
    expect(classifyPartitionAnswer(batch, answer(code)).status).toBe('session-lost');
  });

  it.each([
    [10, 'MESSAGE_TOO_LARGE'],
    [18, 'RECORD_LIST_TOO_LARGE'],
    [29, 'TOPIC_AUTHORIZATION_FAILED'],
  ])('fails for good on error %i (%s)', (code) => {
    expect(classifyPartitionAnswer(batch, answer(code)).status).toBe('failed');
  });
});
