import { Producer } from '@platformatic/kafka';
import type { Logger } from 'pino';
import type { PartitionWrite } from '../transport.ts';
import { operationError } from './client-errors.ts';
import { createIdempotentSender } from './idempotent-sender.ts';
import type { KafkaClientBaseOptions, ResolvedProducerOptions } from './kafka-options.ts';
import { createProduceLink } from './produce-link.ts';
import { createProduceQueue, type ProduceQueue, type QueuedWrite } from './produce-queue.ts';
import { recordSize, toMessage } from './record-codec.ts';

/** Milliseconds between the client's own retries of one request. */
export const CLIENT_RETRY_DELAY_MS = 250;

/** The plain (idempotent, non-transactional) producer and the queue that batches appends onto it. */
export interface ProducerSession {
  producer: Producer;
  queue: ProduceQueue;
}

/**
 * Creates the plain producer (connected on first use), the idempotent sender over its connections and
 * the produce queue that batches appends onto the sender.
 */
export function createProducerSession(
  base: KafkaClientBaseOptions,
  settings: ResolvedProducerOptions,
  logger: Logger,
): ProducerSession {
  // The client's `send` is not used: its connections, metadata, API versions and InitProducerId are.
  const producer = new Producer({ ...base, idempotent: true, acks: -1, retryDelay: CLIENT_RETRY_DELAY_MS });
  const mapError = (error: unknown) => operationError('append', error);
  const sender = createIdempotentSender({
    link: createProduceLink({ producer, compression: settings.compression, requestTimeoutMs: base.timeout }),
    logger,
    deliveryTimeoutMs: settings.deliveryTimeoutMs,
    mapError,
  });
  const queue = createProduceQueue({
    send: (messages) => sender.send(messages),
    logger,
    lingerMs: settings.lingerMs,
    maxBatchRecords: settings.maxBatchRecords,
    maxBatchBytes: settings.maxBatchBytes,
    mapError,
  });
  return {
    producer,
    queue: {
      ...queue,
      abandon: (error) => {
        sender.stop(error);
        queue.abandon(error);
      },
    },
  };
}

/**
 * Checks every write (its partition exists) before any is queued, so a bad one fails the call with nothing
 * written, then encodes them for the produce or transaction queue.
 */
export async function prepareWrites(
  writes: readonly PartitionWrite[],
  existingPartition: (topic: string, partition: number) => Promise<void>,
): Promise<QueuedWrite[]> {
  const checked = new Map<string, Promise<void>>();
  for (const write of writes) {
    const id = `${write.topic}\u0000${write.partition}`;
    if (!checked.has(id)) checked.set(id, existingPartition(write.topic, write.partition));
  }
  await Promise.all(checked.values());
  const now = Date.now();
  return writes.map((write) => ({
    topic: write.topic,
    partition: write.partition,
    messages: write.records.map((record) => toMessage(write.topic, write.partition, record, now)),
    sizes: write.records.map(recordSize),
  }));
}
