import type { Logger } from 'pino';
import type { ConsumerOptions, TopicPartition } from './transport.ts';

/**
 * Runs a member's `onPartitionsRevoked` or `onPartitionsAssigned` for the partitions that moved, the same
 * way on every adapter: nothing when none moved, and a failing callback is logged, not rethrown, since a
 * member cannot keep partitions because its callback failed.
 */
export async function runRebalanceCallback(
  options: Pick<ConsumerOptions, 'onPartitionsRevoked' | 'onPartitionsAssigned'>,
  name: 'onPartitionsRevoked' | 'onPartitionsAssigned',
  partitions: readonly TopicPartition[],
  log: Logger,
  adapter: string,
): Promise<void> {
  const handler = options[name];
  if (handler === undefined || partitions.length === 0) return;
  try {
    await handler(partitions);
  } catch (error) {
    log.error({ err: error, partitions }, `${adapter} consumer: ${name} failed`);
  }
}
