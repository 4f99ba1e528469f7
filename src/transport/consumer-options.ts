import { z } from 'zod';
import { OptionsError, parseOptions } from '../errors/options.ts';
import { aFunction, positiveInt } from './option-schemas.ts';
import type { ConsumerOptions, TopicPartition } from './transport.ts';

type RebalanceCallback = (partitions: readonly TopicPartition[]) => Promise<void>;

const groupError = 'must be a non-empty string';
const topicsError = 'must name at least one topic';

/** A group member's options, as every adapter takes them (`ConsumerOptions`), with their defaults. */
export const consumerOptionsSchema = z.object({
  group: z.string({ error: groupError }).min(1, { error: groupError }),
  topics: z.array(z.string(), { error: topicsError }).min(1, { error: topicsError }),
  startFrom: z.enum(['earliest', 'latest']).default('earliest'),
  maxRecords: positiveInt.default(500),
  sessionTimeoutMs: positiveInt.default(10_000),
  /** Default chosen by the adapter from the session timeout (see `parseConsumerOptions`). */
  heartbeatIntervalMs: positiveInt.optional(),
  onPartitionsRevoked: aFunction<RebalanceCallback>().optional(),
  onPartitionsAssigned: aFunction<RebalanceCallback>().optional(),
  coPartitioned: z.boolean().default(false),
});

/** A member's options once parsed: topics deduplicated and sorted, the heartbeat interval chosen. */
export type ParsedConsumerOptions = Omit<z.output<typeof consumerOptionsSchema>, 'heartbeatIntervalMs'> & {
  /** Milliseconds between heartbeats, below the session timeout. */
  heartbeatIntervalMs: number;
};

/**
 * Parses a member's options with `schema` (the adapter's variant of `consumerOptionsSchema`), once, when
 * the member is created; `defaultHeartbeatMs` picks the heartbeat interval from the session timeout when
 * the options do not say. Throws an OptionsError naming each broken key as `consumer.<key>`.
 */
export function parseConsumerOptions(
  schema: typeof consumerOptionsSchema,
  options: ConsumerOptions,
  defaultHeartbeatMs: (sessionTimeoutMs: number) => number,
): ParsedConsumerOptions {
  const parsed = parseOptions(schema, options, 'consumer');
  const { sessionTimeoutMs } = parsed;
  const heartbeatIntervalMs = parsed.heartbeatIntervalMs ?? defaultHeartbeatMs(sessionTimeoutMs);
  if (heartbeatIntervalMs >= sessionTimeoutMs) {
    throw new OptionsError('consumer', [
      `consumer.heartbeatIntervalMs: must be below sessionTimeoutMs (${sessionTimeoutMs}), got ${heartbeatIntervalMs}`,
    ]);
  }
  return { ...parsed, topics: [...new Set(parsed.topics)].sort(), heartbeatIntervalMs };
}
