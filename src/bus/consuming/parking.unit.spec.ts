import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { PartitionWrite, StoredRecord } from '../../transport/transport.ts';
import type { Failure } from '../dead-letter/escalate.ts';
import { withFailure } from '../dead-letter/failure-headers.ts';
import { createPartitionProgress } from '../partition-progress.ts';
import { storedRecord } from '../test-support/fake-consumer.ts';
import { createParking, type ParkingOptions, sourcePartitionId } from './parking.ts';

const headers = { ce_type: 't.happened', ce_id: 'x' };
const source = (offset: number) => storedRecord(offset, 'k', headers, 'src', 0);
const inRetry = (offset: number, step: number, sourceOffset: number, parked?: 'follower') =>
  ({
    ...storedRecord(offset, 'k', {}, `g.retry.${step}`, 0),
    headers: withFailure(source(sourceOffset), {
      errorType: 'Error',
      errorMessage: 'no',
      errorStack: '',
      attempts: 1,
      handler: 'g:t.happened',
      firstFailureAt: 1,
      lastFailureAt: 1,
      sourceTopic: 'src',
      sourcePartition: 0,
      sourceOffset: BigInt(sourceOffset),
      delivery: step + 1,
      dueAt: 0,
      ...(parked ? { parked } : {}),
    }).headers,
  }) as StoredRecord;

/** A parking over two retry steps whose moves are recorded, and whose inner handler is told what to do. */
function parkingFixture() {
  const moves: PartitionWrite[] = [];
  const options: ParkingOptions = {
    delays: [10, 20],
    retryTopicOf: (step) => `g.retry.${step}`,
    dlqTopic: 'g.dlq',
    partitionsOf: () => 1,
    isRetryTopic: (topic) => topic.startsWith('g.retry.'),
    orderedHandler: () => 'g:t.happened',
    onDeadLetter: 'park',
    move: async (_progress, _offset, writes) => {
      moves.push(...writes);
      return true;
    },
    discardedInDlq: async () => new Set(),
    logger: pino({ level: 'silent' }),
  };
  const parking = createParking(options);
  const failure = (record: StoredRecord, progress = createPartitionProgress(record.topic, 0)): Failure => ({
    record,
    event: undefined,
    error: new Error('no'),
    handler: 'g:t.happened',
    previous: undefined,
    attempts: 1,
    progress,
  });
  return { parking, moves, failure };
}

describe('parking', () => {
  it('sends the later events of a failed key behind it, and lets the key flow once the chain is through', async () => {
    const { parking, moves, failure } = parkingFixture();
    const handled: string[] = [];
    const handle = parking.wrap(async (record) => {
      handled.push(`${record.topic}@${record.offset}`);
      return true;
    });
    const progress = createPartitionProgress('src', 0);
    parking.listener.escalating(failure(source(1), progress), 1);
    expect(await handle(source(2), progress)).toBe(true);
    expect(moves.map((m) => m.topic)).toEqual(['g.retry.1']);
    expect(handled).toEqual([]);
    expect(parking.stats()).toMatchObject({ keys: 1, events: 1 });
    // The head, then its follower, come back from the retry topic and are handled in order.
    const retryProgress = createPartitionProgress('g.retry.1', 0);
    await handle(inRetry(0, 1, 1), retryProgress);
    await handle(inRetry(1, 1, 2, 'follower'), retryProgress);
    expect(handled).toEqual(['g.retry.1@0', 'g.retry.1@1']);
    expect(parking.chain('src', 'k')).toBeUndefined();
    await handle(source(3), progress);
    expect(handled.at(-1)).toBe('src@3');
  });

  it('never lets a record of an earlier holding remove or change the chain rebuilt after a reassignment', async () => {
    const { parking, failure } = parkingFixture();
    let release: () => void = () => {};
    const stale = createPartitionProgress('g.retry.1', 0);
    const handle = parking.wrap(async () => {
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return true;
    });
    parking.listener.escalating(failure(source(1)), 1);
    // The head is being handled when the partition is lost, dropped and rebuilt from the retry topic.
    const running = handle(inRetry(0, 1, 1), stale);
    await new Promise((resolve) => setTimeout(resolve, 5));
    stale.revoke();
    parking.drop(new Set([sourcePartitionId('src', 0)]));
    parking.restore(inRetry(0, 1, 1));
    parking.restore(inRetry(1, 1, 2, 'follower'));
    const rebuilt = parking.chain('src', 'k');
    release();
    await running;
    expect(parking.chain('src', 'k')).toBe(rebuilt);
    expect(rebuilt?.inRetry[1]).toBe(2);
    // A stale record deciding after the loss leaves the rebuilt chain alone too.
    await parking.wrap(async () => false)(inRetry(1, 1, 2, 'follower'), stale);
    expect(rebuilt?.inRetry[1]).toBe(2);
  });

  it('sends a fresh event no higher than a record of its key still moving up, so it never overtakes it', async () => {
    const moves: string[] = [];
    let arrive: (moved: boolean) => void = () => {};
    const parking = createParking({
      delays: [10, 20],
      retryTopicOf: (step) => `g.retry.${step}`,
      dlqTopic: 'g.dlq',
      partitionsOf: () => 1,
      isRetryTopic: (topic) => topic.startsWith('g.retry.'),
      orderedHandler: () => 'g:t.happened',
      onDeadLetter: 'park',
      move: (_progress, _offset, writes) => {
        moves.push(writes[0]!.topic);
        // The first move (a follower leaving step 1) takes its time; the others are done at once.
        return moves.length === 1
          ? new Promise<boolean>((resolve) => (arrive = resolve))
          : Promise.resolve(true);
      },
      discardedInDlq: async () => new Set(),
      logger: pino({ level: 'silent' }),
    });
    const handle = parking.wrap(async () => true);
    // The chain: its head already in step 2, a follower in step 1.
    parking.restore(inRetry(0, 2, 1));
    parking.restore(inRetry(5, 1, 2, 'follower'));
    const following = handle(inRetry(5, 1, 2, 'follower'), createPartitionProgress('g.retry.1', 0));
    await handle(source(3), createPartitionProgress('src', 0));
    expect(moves).toEqual(['g.retry.2', 'g.retry.1']);
    arrive(true);
    expect(await following).toBe(true);
  });
});
