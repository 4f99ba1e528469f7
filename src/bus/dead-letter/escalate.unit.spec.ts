import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { CloudEvent } from '../../events/cloud-event.ts';
import type { PartitionWrite, Transport } from '../../transport/transport.ts';
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
  ...overrides,
});

/** A transport that keeps what is appended, failing the first `failures` appends. */
function appendingTransport(failures = 0) {
  const appended: PartitionWrite[] = [];
  let calls = 0;
  const transport = {
    append: async (batches: PartitionWrite[]) => {
      if (calls++ < failures) throw new Error('broker away');
      appended.push(...batches);
      // One offset per record, per write, as the port promises.
      return batches.map((batch) => batch.records.map((_, i) => BigInt(i)));
    },
  } as unknown as Transport;
  return { transport, appended };
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
    const { transport, appended } = appendingTransport();
    const escalation = createEscalation({
      transport,
      group: 'g',
      delays: [1_000],
      isRetryable: () => true,
      partitionsOf: () => 4,
      signal: new AbortController().signal,
      logger,
    });
    expect(await escalation.escalate(failure())).toBe(true);
    expect(appended[0]!.topic).toBe('g.retry.1s');
    const retried = failureOf(appended[0]!.records[0]!)!;
    expect(retried.delivery).toBe(2);
    expect(retried.dueAt).toBeGreaterThan(Date.now() + 500);
    expect(escalation.lastError()).toMatchObject({ type: 'Error', message: 'down' });
    expect(await escalation.escalate(failure({ previous: retried }))).toBe(true);
    expect(appended[1]!.topic).toBe('g.dlq');
    expect(failureOf(appended[1]!.records[0]!)!.attempts).toBe(6);
  });

  it('dead-letters at once what a retry cannot cure, and an undecodable record', async () => {
    const { transport, appended } = appendingTransport();
    const escalation = createEscalation({
      transport,
      group: 'g',
      delays: [1_000],
      isRetryable: () => false,
      partitionsOf: () => 1,
      signal: new AbortController().signal,
      logger,
    });
    await escalation.escalate(failure());
    await escalation.escalate(failure({ event: undefined, attempts: 0 }));
    expect(appended.map((a) => a.topic)).toEqual(['g.dlq', 'g.dlq']);
  });

  it('keeps appending until the transport takes the record, and gives up on shutdown', async () => {
    const { transport, appended } = appendingTransport(1);
    const options = {
      transport,
      group: 'g',
      delays: [],
      isRetryable: () => true,
      partitionsOf: () => 1,
      logger,
    };
    const escalation = createEscalation({ ...options, signal: new AbortController().signal });
    expect(await escalation.escalate(failure())).toBe(true);
    expect(appended).toHaveLength(1);
    const stopped = new AbortController();
    stopped.abort();
    const down = appendingTransport(100);
    expect(
      await createEscalation({ ...options, transport: down.transport, signal: stopped.signal }).escalate(
        failure(),
      ),
    ).toBe(false);
  });
});
