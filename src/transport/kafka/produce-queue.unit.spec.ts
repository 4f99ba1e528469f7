import type { ProduceResult } from '@platformatic/kafka';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createProduceQueue, type QueuedWrite, type SendBatch } from './produce-queue.ts';
import type { ProducedMessage } from './record-codec.ts';

const message = (partition: number, label: string): ProducedMessage => ({
  topic: 't',
  partition,
  value: Buffer.from(label),
  headers: new Map(),
  timestamp: 0n,
});
const write = (partition: number, ...labels: string[]): QueuedWrite => ({
  topic: 't',
  partition,
  messages: labels.map((label) => message(partition, label)),
  sizes: labels.map(() => 10),
});

/** An error as the client reports a send that failed in part: `written` partitions got their records. */
const failedSend = (written: Array<{ partition: number; offset: bigint }>, retryable = true) =>
  Object.assign(new Error(retryable ? 'NOT_LEADER_OR_FOLLOWER' : 'MESSAGE_TOO_LARGE'), {
    retryable,
    produced: { offsets: written.map(({ partition, offset }) => ({ topic: 't', partition, offset })) },
  });

/**
 * A stand-in for the client's `send`: answers each request from `script` in turn (an error to throw, or
 * nothing for success), keeps what each partition holds, and records every request's messages.
 */
const scriptedBrokers = (script: Array<Error | undefined>) => {
  const logs = new Map<number, string[]>();
  const requests: string[][] = [];
  const send: SendBatch = async (messages) => {
    requests.push(messages.map((m) => `${m.partition}:${m.value}`));
    const error = script.shift() as ReturnType<typeof failedSend> | undefined;
    const written = new Set(
      error?.produced.offsets.map((o) => o.partition) ?? messages.map((m) => m.partition),
    );
    const offsets: NonNullable<ProduceResult['offsets']> = [];
    for (const partition of written) {
      const log = logs.get(partition!) ?? [];
      logs.set(partition!, log);
      offsets.push({ topic: 't', partition: partition!, offset: BigInt(log.length) });
      for (const m of messages) if (m.partition === partition) log.push(String(m.value));
    }
    if (error) throw error;
    return { offsets };
  };
  return { send, logs, requests };
};

const queueOver = (send: SendBatch, deliveryTimeoutMs = 10_000) => {
  let refreshes = 0;
  const queue = createProduceQueue({
    send,
    logger: pino({ level: 'silent' }),
    lingerMs: 5,
    maxBatchRecords: 100,
    maxBatchBytes: 1_000_000,
    mapError: (error) => error as Error,
    deliveryTimeoutMs,
    isRetryable: (error) => (error as { retryable?: boolean }).retryable === true,
    refresh: () => {
      refreshes++;
    },
  });
  return { queue, refreshes: () => refreshes };
};

describe('produce queue', () => {
  it('sends again what a failed send did not write, before anything queued after it, with fresh leaders', async () => {
    // The first request writes partition 0 only; partition 1 was led by a broker that went away.
    const brokers = scriptedBrokers([failedSend([{ partition: 0, offset: 0n }])]);
    const { queue, refreshes } = queueOver(brokers.send);
    const first = queue.enqueue([write(0, 'a', 'b'), write(1, 'c')]);
    const second = queue.enqueue([write(1, 'd')]);
    expect(await first).toEqual([[0n, 1n], [0n]]);
    expect(await second).toEqual([[1n]]);
    expect(refreshes()).toBe(1);
    // Partition 0 was not written twice; partition 1 kept its order.
    expect(Object.fromEntries(brokers.logs)).toEqual({ 0: ['a', 'b'], 1: ['c', 'd'] });
    expect(brokers.requests[1]).toEqual(['1:c', '1:d']);
  });

  it('fails at once, with what is queued behind, when the error says sending again cannot help', async () => {
    const brokers = scriptedBrokers([failedSend([], false)]);
    const { queue } = queueOver(brokers.send);
    const first = queue.enqueue([write(0, 'a')]).catch((error: Error) => error.message);
    const second = queue.enqueue([write(0, 'b')]).catch((error: Error) => error.message);
    expect(await first).toBe('MESSAGE_TOO_LARGE');
    expect(await second).toBe('MESSAGE_TOO_LARGE');
    expect(brokers.requests).toHaveLength(1);
  });

  it('gives up on a message at its delivery timeout, counted from its first send', async () => {
    const brokers = scriptedBrokers(Array.from({ length: 100 }, () => failedSend([])));
    const { queue } = queueOver(brokers.send, 250);
    const started = Date.now();
    const outcome = await queue.enqueue([write(0, 'a')]).catch((error: Error) => error.message);
    expect(outcome).toBe('NOT_LEADER_OR_FOLLOWER');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(brokers.requests.length).toBeGreaterThan(1);
    expect(brokers.logs.size).toBe(0);
  });

  it('fails a send waiting to go again when abandoned, and drains', async () => {
    const brokers = scriptedBrokers(Array.from({ length: 100 }, () => failedSend([])));
    const { queue } = queueOver(brokers.send);
    const pending = queue.enqueue([write(0, 'a')]).catch((error: Error) => error.message);
    await new Promise((resolve) => setTimeout(resolve, 30));
    queue.abandon(new Error('closed'));
    expect(await pending).toBe('closed');
    await queue.drain();
  });
});
