import type { Admin } from '@platformatic/kafka';
import type { PartitionSize } from '../transport.ts';
import { operationError } from './client-errors.ts';

/**
 * Bytes each partition of a topic holds: DescribeLogDirs on every broker, the largest replica of each
 * partition (the leader's log, or a follower's that has not caught up yet is smaller).
 */
export async function partitionSizes(admin: Admin, topic: string, count: number): Promise<PartitionSize[]> {
  const partitions = Array.from({ length: count }, (_, i) => i);
  let brokers: Awaited<ReturnType<Admin['describeLogDirs']>>;
  try {
    brokers = await admin.describeLogDirs({ topics: [{ name: topic, partitions }] });
  } catch (error) {
    throw operationError('describeLogDirs', error);
  }
  const largest = new Map<number, bigint>(partitions.map((p) => [p, 0n]));
  for (const broker of brokers) {
    for (const dir of broker.results) {
      for (const logTopic of dir.topics) {
        if (logTopic.name !== topic) continue;
        for (const p of logTopic.partitions) {
          if (p.isFutureKey) continue;
          if (p.partitionSize > (largest.get(p.partitionIndex) ?? 0n))
            largest.set(p.partitionIndex, p.partitionSize);
        }
      }
    }
  }
  return partitions.map((partition) => ({ partition, bytes: Number(largest.get(partition) ?? 0n) }));
}
