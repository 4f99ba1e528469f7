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

/**
 * A stand-in for the idempotent sender: answers each send from `script` in turn (the partitions it wrote,
 * and an error for the others; nothing scripted writes all), keeps what each partition holds, and records
 * every send's messages.
 */
const scriptedSender = (
  script: Array<{ written: number[]; error: string } | undefined>,
  answered: Promise<void> = Promise.resolve(),
) => {
  const logs = new Map<number, string[]>();
  const requests: string[][] = [];
  const send: SendBatch = async (messages) => {
    requests.push(messages.map((m) => `${m.partition}:${m.value}`));
    await answered;
    const step = script.shift();
    const partitions = new Set(step?.written ?? messages.map((m) => m.partition!));
    const written = [...partitions].map((partition) => {
      const log = logs.get(partition) ?? [];
      logs.set(partition, log);
      const offset = BigInt(log.length);
      for (const m of messages) if (m.partition === partition) log.push(String(m.value));
      return { topic: 't', partition, offset };
    });
    return step ? { written, error: new Error(step.error) } : { written };
  };
  return { send, logs, requests };
};

const queueOver = (send: SendBatch) =>
  createProduceQueue({
    send,
    logger: pino({ level: 'silent' }),
    lingerMs: 5,
    maxBatchRecords: 100,
    maxBatchBytes: 1_000_000,
    mapError: (error) => error as Error,
  });

describe('produce queue', () => {
  it('carries the appends queued meanwhile in one send and gives each its own offsets', async () => {
    const sender = scriptedSender([]);
    const queue = queueOver(sender.send);
    const first = queue.enqueue([write(0, 'a', 'b'), write(1, 'c')]);
    const second = queue.enqueue([write(1, 'd')]);
    expect(await first).toEqual([[0n, 1n], [0n]]);
    expect(await second).toEqual([[1n]]);
    expect(sender.requests).toEqual([['0:a', '0:b', '1:c', '1:d']]);
  });

  it('resolves the appends a failed send wrote whole, fails the others and those queued behind it', async () => {
    // Partition 0 was written; partition 1 could not be (its sender gave up).
    let answer = () => {};
    const answered = new Promise<void>((resolve) => {
      answer = resolve;
    });
    const sender = scriptedSender([{ written: [0], error: 'NOT_ENOUGH_REPLICAS' }], answered);
    const queue = queueOver(sender.send);
    const onlyWritten = queue.enqueue([write(0, 'a')]);
    const partlyWritten = queue.enqueue([write(0, 'b'), write(1, 'c')]).catch((e: Error) => e.message);
    await new Promise((resolve) => setTimeout(resolve, 10));
    // Queued while the send is in flight.
    const behind = queue.enqueue([write(0, 'd')]).catch((e: Error) => e.message);
    answer();
    expect(await onlyWritten).toEqual([[0n]]);
    expect(await partlyWritten).toBe('NOT_ENOUGH_REPLICAS');
    expect(await behind).toBe('NOT_ENOUGH_REPLICAS');
    expect(sender.requests).toHaveLength(1);
  });

  it('fails what is queued and not sent when abandoned, and drains', async () => {
    const sender = scriptedSender([]);
    const queue = queueOver(sender.send);
    const pending = queue.enqueue([write(0, 'a')]).catch((error: Error) => error.message);
    queue.abandon(new Error('closed'));
    expect(await pending).toBe('closed');
    await queue.drain();
    expect(sender.requests).toHaveLength(0);
  });
});
