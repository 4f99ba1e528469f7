import type { PartitionLag } from './transport.ts';

/**
 * A group's lag on one partition, the same way on every adapter: records from its committed offset (or the
 * log start, when it never committed or retention deleted past its commit) to the log end.
 */
export function partitionLag(
  topic: string,
  partition: number,
  committed: bigint | null,
  logStart: bigint,
  logEnd: bigint,
): PartitionLag {
  const from = committed === null || committed < logStart ? logStart : committed;
  return { topic, partition, committed, latest: logEnd, lag: logEnd > from ? logEnd - from : 0n };
}
