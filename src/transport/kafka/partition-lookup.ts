import type { Producer } from '@platformatic/kafka';
import { UnknownTopicError } from '../errors.ts';
import { isUnknownTopic, operationError } from './client-errors.ts';

/** Milliseconds between a metadata lookup that failed and the next try. */
const LOOKUP_RETRY_DELAY_MS = 250;

/** Which topics and partitions exist, from the producer's metadata (cached by the client for 5 s). */
export interface PartitionLookup {
  /** The partition count of an existing topic; UnknownTopicError when it does not exist. */
  existingTopic(topic: string): Promise<number>;
  /** Resolves when the partition exists; UnknownTopicError for a missing topic or partition. */
  existingPartition(topic: string, partition: number): Promise<void>;
}

/** Creates the partition lookup on `producer`'s metadata. */
export function createPartitionLookup(producer: Producer): PartitionLookup {
  const lookup = async (topic: string, forceUpdate: boolean): Promise<number> => {
    for (let attempt = 0; ; attempt++) {
      try {
        // No client retries: they would retry "unknown topic" too, which is an answer, not a failure.
        const metadata = await producer.metadata({ topics: [topic], forceUpdate, retries: 0 });
        return metadata.topics.get(topic)?.partitionsCount ?? 0;
      } catch (error) {
        if (isUnknownTopic(error)) return 0;
        if (attempt >= 4) throw operationError('metadata', error);
        await new Promise((resolve) => setTimeout(resolve, LOOKUP_RETRY_DELAY_MS));
      }
    }
  };
  // Refreshed once when the cached count looks too small, since partitions may have been added since.
  const partitionCount = async (topic: string, atLeast = 1): Promise<number> => {
    const cached = await lookup(topic, false);
    return cached >= atLeast ? cached : lookup(topic, true);
  };
  return {
    existingTopic: async (topic) => {
      const count = await partitionCount(topic);
      if (count === 0) throw new UnknownTopicError(topic);
      return count;
    },
    existingPartition: async (topic, partition) => {
      if (!Number.isInteger(partition) || partition < 0) throw new UnknownTopicError(topic, partition);
      const count = await partitionCount(topic, partition + 1);
      if (count === 0) throw new UnknownTopicError(topic);
      if (partition >= count) throw new UnknownTopicError(topic, partition);
    },
  };
}

/** Partition numbers 0 … count - 1. */
export function partitionRange(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}
