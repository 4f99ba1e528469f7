import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  createIdempotentSender,
  incrementSequence,
  type PartitionBatch,
  type PartitionOutcome,
  type ProduceLink,
} from './idempotent-sender.ts';
import type { ProducedMessage } from './record-codec.ts';

const message = (partition: number, label: string): ProducedMessage => ({
  topic: 't',
  partition,
  value: Buffer.from(label),
  headers: new Map(),
  timestamp: 0n,
});

/** What the next request does to each partition it carries, as a broker would see it. */
type Fault = 'not-leader' | 'ack-lost' | 'session-lost' | 'too-large';

/**
 * Partition logs that check producer ids and sequence numbers the way a Kafka partition leader does: a
 * batch is appended when its first sequence follows the producer's last, recognised as a copy when it is
 * one of the producer's last five batches (answered with the original offset), and refused as out of
 * order otherwise. `faults` scripts what happens to the next requests.
 */
const sequenceCheckingLogs = (faults: Array<Fault | undefined>) => {
  const logs = new Map<number, Array<{ label: string; producerId: bigint }>>();
  const lastBatches = new Map<string, Array<{ first: number; count: number; offset: bigint }>>();
  const requests: Array<{ producerId: bigint; batches: Array<[number, number]> }> = [];
  let sessions = 0n;
  const append = (producerId: bigint, batch: PartitionBatch): PartitionOutcome => {
    const log = logs.get(batch.partition) ?? [];
    logs.set(batch.partition, log);
    const stateKey = `${producerId}/${batch.partition}`;
    const remembered = lastBatches.get(stateKey) ?? [];
    lastBatches.set(stateKey, remembered);
    const copy = remembered.find((b) => b.first === batch.firstSequence && b.count === batch.messages.length);
    if (copy) return { batch, status: 'written', baseOffset: copy.offset };
    const last = remembered.at(-1);
    const expected = last === undefined ? 0 : incrementSequence(last.first, last.count);
    if (batch.firstSequence !== expected)
      return { batch, status: 'session-lost', error: new Error('OUT_OF_ORDER') };
    const offset = BigInt(log.length);
    for (const m of batch.messages) log.push({ label: String(m.value), producerId });
    remembered.push({ first: batch.firstSequence, count: batch.messages.length, offset });
    if (remembered.length > 5) remembered.shift();
    return { batch, status: 'written', baseOffset: offset };
  };
  const link: ProduceLink = {
    initSession: async () => ({ producerId: ++sessions, producerEpoch: 0 }),
    produce: async (session, batches) => {
      requests.push({
        producerId: session.producerId,
        batches: batches.map((b) => [b.partition, b.firstSequence]),
      });
      const fault = faults.shift();
      return batches.map((batch) => {
        if (fault === 'not-leader')
          return { batch, status: 'retry', error: new Error('NOT_LEADER_OR_FOLLOWER') };
        if (fault === 'session-lost')
          return { batch, status: 'session-lost', error: new Error('UNKNOWN_PRODUCER_ID') };
        if (fault === 'too-large') return { batch, status: 'failed', error: new Error('MESSAGE_TOO_LARGE') };
        const outcome = append(session.producerId, batch);
        return fault === 'ack-lost'
          ? { batch, status: 'retry', error: new Error('REQUEST_TIMED_OUT') }
          : outcome;
      });
    },
  };
  const labels = (partition: number) => (logs.get(partition) ?? []).map((r) => r.label);
  return { link, labels, requests, sessions: () => sessions };
};

const senderOver = (link: ProduceLink, deliveryTimeoutMs = 10_000) => {
  const warnings: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line).msg) });
  const sender = createIdempotentSender({ link, logger, deliveryTimeoutMs, mapError: (e) => e as Error });
  return { sender, warnings };
};

describe('idempotent sender', () => {
  it('sends a batch whose acknowledgement was lost again as the same batch: written once, original offsets', async () => {
    const brokers = sequenceCheckingLogs(['ack-lost', 'ack-lost']);
    const { sender } = senderOver(brokers.link);
    const outcome = await sender.send([message(0, 'a'), message(0, 'b'), message(1, 'c')]);
    expect(outcome.error).toBeUndefined();
    expect(outcome.written).toEqual(
      expect.arrayContaining([
        { topic: 't', partition: 0, offset: 0n },
        { topic: 't', partition: 1, offset: 0n },
      ]),
    );
    expect([brokers.labels(0), brokers.labels(1)]).toEqual([['a', 'b'], ['c']]);
    // Three requests, one session, the same sequence numbers each time.
    expect(brokers.requests.map((r) => r.producerId)).toEqual([1n, 1n, 1n]);
    expect(new Set(brokers.requests.map((r) => JSON.stringify(r.batches))).size).toBe(1);
  });

  it('keeps sequence numbers running across sends and through leader changes: every record once, in order', async () => {
    const brokers = sequenceCheckingLogs([undefined, 'not-leader', 'ack-lost', undefined, 'ack-lost']);
    const { sender } = senderOver(brokers.link);
    for (let i = 0; i < 4; i++) {
      const outcome = await sender.send([message(0, `a${i}`), message(1, `b${i}`), message(0, `c${i}`)]);
      expect(outcome.error).toBeUndefined();
    }
    expect(brokers.labels(0)).toEqual(['a0', 'c0', 'a1', 'c1', 'a2', 'c2', 'a3', 'c3']);
    expect(brokers.labels(1)).toEqual(['b0', 'b1', 'b2', 'b3']);
    expect(brokers.sessions()).toBe(1n);
  });

  it('sends the unacknowledged batches again in a new session when the brokers lost the session, and says so', async () => {
    const brokers = sequenceCheckingLogs([undefined, 'session-lost']);
    const { sender, warnings } = senderOver(brokers.link);
    await sender.send([message(0, 'a')]);
    const outcome = await sender.send([message(0, 'b')]);
    expect(outcome.error).toBeUndefined();
    expect(brokers.labels(0)).toEqual(['a', 'b']);
    expect(brokers.requests.map((r) => [r.producerId, r.batches])).toEqual([
      [1n, [[0, 0]]],
      [1n, [[0, 1]]],
      [2n, [[0, 0]]],
    ]);
    expect(warnings.some((w) => w.includes('lost the idempotent session'))).toBe(true);
  });

  it('answers what it wrote and the error at once when sending again cannot help, then starts a new session', async () => {
    const brokers = sequenceCheckingLogs(['too-large']);
    const { sender } = senderOver(brokers.link);
    const failed = await sender.send([message(0, 'a')]);
    expect(failed).toEqual({ written: [], error: new Error('MESSAGE_TOO_LARGE') });
    expect(brokers.requests).toHaveLength(1);
    expect((await sender.send([message(0, 'b')])).error).toBeUndefined();
    expect(brokers.sessions()).toBe(2n);
  });

  it('gives up at the delivery timeout with the last error', async () => {
    const brokers = sequenceCheckingLogs(Array.from({ length: 100 }, () => 'not-leader' as const));
    const { sender } = senderOver(brokers.link, 200);
    const started = performance.now();
    const outcome = await sender.send([message(0, 'a')]);
    expect(outcome.error).toEqual(new Error('NOT_LEADER_OR_FOLLOWER'));
    expect(performance.now() - started).toBeGreaterThanOrEqual(200);
    expect(brokers.requests.length).toBeGreaterThan(2);
  });

  it('ends a send waiting to go again when stopped', async () => {
    const brokers = sequenceCheckingLogs(Array.from({ length: 100 }, () => 'not-leader' as const));
    const { sender } = senderOver(brokers.link);
    const pending = sender.send([message(0, 'a')]);
    await new Promise((resolve) => setTimeout(resolve, 60));
    sender.stop(new Error('closed'));
    expect((await pending).error).toEqual(new Error('closed'));
    expect((await sender.send([message(0, 'b')])).error).toEqual(new Error('closed'));
  });

  it('wraps sequence numbers past 2^31 - 1 to 0, as the brokers do', () => {
    expect(incrementSequence(0, 5)).toBe(5);
    expect(incrementSequence(2 ** 31 - 3, 3)).toBe(0);
    expect(incrementSequence(2 ** 31 - 1, 2)).toBe(1);
  });
});
