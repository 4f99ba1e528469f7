import { topicCompressions } from '../events/define-topic.ts';
import type { TopicConfig } from './transport.ts';

const topicNamePattern = /^[a-zA-Z0-9._-]{1,249}$/;

/**
 * Checks a topic's configuration the same way on every adapter (callers may be untyped JavaScript):
 * a Kafka-legal name, at least one partition, and positive whole numbers for the optional settings.
 */
export function validateTopicConfig(config: TopicConfig): void {
  if (typeof config.name !== 'string' || !topicNamePattern.test(config.name)) {
    throw new TypeError(`ensureTopics: name "${config.name}" must be 1-249 letters, digits, '.', '_' or '-'`);
  }
  if (!Number.isInteger(config.partitions) || config.partitions < 1) {
    throw new TypeError(
      `ensureTopics(${config.name}): partitions must be an integer ≥ 1, got ${config.partitions}`,
    );
  }
  if (config.compression !== undefined && !topicCompressions.includes(config.compression)) {
    throw new TypeError(
      `ensureTopics(${config.name}): compression must be one of ${topicCompressions.join(', ')}, got ${config.compression}`,
    );
  }
  for (const [key, value] of [
    ['replication', config.replication],
    ['retentionMs', config.retentionMs],
    ['retentionBytes', config.retentionBytes],
    ['minInsyncReplicas', config.minInsyncReplicas],
  ] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value <= 0)) {
      throw new TypeError(`ensureTopics(${config.name}): ${key} must be a positive integer, got ${value}`);
    }
  }
}
