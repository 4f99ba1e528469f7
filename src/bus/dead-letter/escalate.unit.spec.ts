import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { CloudEvent } from '../../events/cloud-event.ts';
import type { PartitionWrite } from '../../transport/transport.ts';
import { createPartitionProgress } from '../partition-progress.ts';
import { storedRecord } from '../test-support/fake-consumer.ts';
import { createEscalation, type Failure, failureInfo } from './escalate.ts';
import { failureOf } from './failure-headers.ts';

const logger = pino({ level: 'silent' });
const event = { id: 'e1', type: 't.happened', data: {} } as CloudEvent;
const failure = (overrides: Partial<Failure> = {}): Failure => ({
  record: storedRecord(41, 'k', { ce_id: 'e1' }, 'src', 2),
  event,
  error: Object.assign(new Error('down'), { code: 'X_DOWN' }),
  handler: 'g:t.happened',
  previous: undefined,
  attempts: 3,
  progress: createPartitionProgress('src', 2),
  ...overrides,
});

/** A move that keeps what it would append, with the offset it would commit past. */
function recordingMove() {
  const appended: PartitionWrite[] = [];
  const pastOffsets: bigint[] = [];
  const move = async (_progress: unknown, offset: bigint, writes: readonly PartitionWrite[]) => {
    appended.push(...writes);
    pastOffsets.push(offset);
    return true;
  };
  return { move, appended, pastOffsets };
}

describe('escalation', () => {
  it('describes a first failure from its record, and a later one from the headers before it', () => {
    const first = failureInfo(failure(), 1_000);
    expect(first).toMatchObject({
      errorType: 'Error',
      errorMessage: 'down',
      errorCode: 'X_DOWN',
      attempts: 3,
      handler: 'g:t.happened',
      firstFailureAt: 1_000,
      lastFailureAt: 1_000,
      sourceTopic: 'src',
      sourcePartition: 2,
      sourceOffset: 41n,
    });
    const later = failureInfo(
      failure({
        record: storedRecord(7, 'k', {}, 'g.retry.1s', 0),
        previous: { ...first, delivery: 2 },
        attempts: 2,
      }),
      5_000,
    );
    expect(later).toMatchObject({
      attempts: 5,
      firstFailureAt: 1_000,
      lastFailureAt: 5_000,
      sourceOffset: 41n,
    });
    expect(failureInfo(failure({ error: 'plain string' }), 0)).toMatchObject({
      errorType: 'Error',
      errorMessage: 'plain string',
    });
  });

  it('moves a retryable failure to the next delayed-retry topic, then to the DLQ after the last delay', async () => {
    const { move, appended, pastOffsets } = recordingMove();
    const escalation = createEscalation({
      move,
      group: 'g',
      delays: [1_000],
      isRetryable: () => true,
      partitionsOf: () => 4,
      logger,
    });
    expect(await escalation.escalate(failure())).toBe(true);
    // Same partition number as its source (2), and the move commits past the source record.
    expect(appended[0]).toMatchObject({ topic: 'g.retry.1s', partition: 2 });
    expect(pastOffsets).toEqual([41n]);
    const retried = failureOf(appended[0]!.records[0]!)!;
    expect(retried.delivery).toBe(2);
    expect(retried.dueAt).toBeGreaterThan(Date.now() + 500);
    expect(escalation.lastError()).toMatchObject({ type: 'Error', message: 'down' });
    expect(await escalation.escalate(failure({ previous: retried }))).toBe(true);
    expect(appended[1]!.topic).toBe('g.dlq');
    expect(failureOf(appended[1]!.records[0]!)!.attempts).toBe(6);
  });

  it('dead-letters at once what a retry cannot cure, and an undecodable record', async () => {
    const { move, appended } = recordingMove();
    const escalation = createEscalation({
      move,
      group: 'g',
      delays: [1_000],
      isRetryable: () => false,
      partitionsOf: () => 1,
      logger,
    });
    await escalation.escalate(failure());
    await escalation.escalate(failure({ event: undefined, attempts: 0 }));
    expect(appended.map((a) => a.topic)).toEqual(['g.dlq', 'g.dlq']);
  });

  it('sends an event released from the DLQ that fails again straight back there', async () => {
    const { move, appended } = recordingMove();
    const escalation = createEscalation({
      move,
      group: 'g',
      delays: [1_000],
      isRetryable: () => true,
      partitionsOf: () => 4,
      logger,
    });
    const previous = { ...failureInfo(failure(), 1_000), released: '2:7' };
    await escalation.escalate(failure({ previous }));
    expect(appended.map((a) => a.topic)).toEqual(['g.dlq']);
  });
});
