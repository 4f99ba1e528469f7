import { Producer } from '@platformatic/kafka';
import type { Logger } from 'pino';
import type { PartitionWrite } from '../transport.ts';
import { isRetryableClientError, operationError } from './client-errors.ts';
import type { KafkaClientBaseOptions, ResolvedProducerOptions } from './kafka-options.ts';
import { createProduceQueue, type ProduceQueue, type QueuedWrite } from './produce-queue.ts';
import { recordSize, toMessage } from './record-codec.ts';

/** Milliseconds between the client's own retries of one request. */
export const CLIENT_RETRY_DELAY_MS = 250;
/** Retries the client makes inside one produce request before the produce queue sends it again. */
const PRODUCE_RETRIES = 4;

/** The plain (idempotent, non-transactional) producer and the queue that batches appends onto it. */
export interface ProducerSession {
  producer: Producer;
  queue: ProduceQueue;
}

/** Creates the plain producer (connected on first use) and its produce queue. */
export function createProducerSession(
  base: KafkaClientBaseOptions,
  settings: ResolvedProducerOptions,
  logger: Logger,
): ProducerSession {
  const producer = new Producer({
    ...base,
    idempotent: true,
    acks: -1,
    compression: settings.compression,
    // A few retries inside one send ride out a blip with the idempotent sequence kept. Longer failures go
    // back to the produce queue, which sends again with fresh leaders until the delivery timeout: the
    // client keeps a send's grouping by leader through its own retries, so a send caught by a leader change
    // would otherwise fail until the delivery timeout (the client retries an idempotent produce forever by
    // default, and `retries` of 1 or less means that).
    retries: PRODUCE_RETRIES,
    retryDelay: CLIENT_RETRY_DELAY_MS,
  });
  const queue = createProduceQueue({
    send: (messages) => producer.send({ messages }),
    logger,
    lingerMs: settings.lingerMs,
    maxBatchRecords: settings.maxBatchRecords,
    maxBatchBytes: settings.maxBatchBytes,
    mapError: (error) => operationError('append', error),
    deliveryTimeoutMs: settings.deliveryTimeoutMs,
    isRetryable: isRetryableClientError,
    refresh: () => producer.clearMetadata(),
  });
  return { producer, queue };
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
