import type { TopicPartition, Transport } from '../../transport/transport.ts';
import type { DeadLetterQueue } from '../dead-letter/dead-letter-queue.ts';
import { type Chain, type Parking, sourcePartitionId } from './parking.ts';

const PAGE = 1_000;
/** How long a lookup of discarded dead letters is reused, in milliseconds. */
const DISCARDED_TTL_MS = 1_000;

/** What rebuilding the chains needs. */
export interface ChainRecoveryOptions {
  transport: Transport;
  group: string;
  retryTopics: ReadonlySet<string>;
  dlq: DeadLetterQueue;
  parking: Parking;
}

/**
 * Rebuilds the parked keys of partitions just assigned, from the durable topics alone: every record of the
 * group's retry topics past its committed offset is a chain record still on its way (a move and the commit
 * past its source are one atomic step, so none is counted twice or missed), and every pending dead letter
 * marked parked waits in the DLQ. A chain's records sit in its source partition's number in every topic, and
 * the assignment gives one member the same number of every topic, so one member holds a whole chain.
 */
export async function recoverChains(options: ChainRecoveryOptions, assigned: readonly TopicPartition[]) {
  const { transport, group, retryTopics, parking } = options;
  const retry = assigned.filter((tp) => retryTopics.has(tp.topic));
  const sources = new Set(
    assigned
      .filter((tp) => !retryTopics.has(tp.topic))
      .map((tp) => sourcePartitionId(tp.topic, tp.partition)),
  );
  if (retry.length > 0) {
    const lags = await transport.groupLag(group, [...new Set(retry.map((tp) => tp.topic))]);
    for (const tp of retry) {
      const lag = lags.find((l) => l.topic === tp.topic && l.partition === tp.partition);
      if (!lag) continue;
      let from = lag.committed ?? lag.latest - lag.lag;
      while (from < lag.latest) {
        const page = await transport.read(tp.topic, tp.partition, from, PAGE);
        if (page.length === 0) break;
        for (const record of page) parking.restore(record);
        from = page[page.length - 1]!.offset + 1n;
      }
    }
  }
  if (sources.size === 0) return;
  for (const entry of await options.dlq.list({ status: 'pending', limit: Number.MAX_SAFE_INTEGER })) {
    const { failure } = entry;
    if (failure.parked === undefined) continue;
    if (sources.has(sourcePartitionId(failure.sourceTopic, failure.sourcePartition))) {
      parking.restore(entry.record);
    }
  }
}

/**
 * Source offsets of a chain's dead letters that were discarded, from a DLQ scan reused for a second: the
 * DLQ tells a router of a discarded head with no event behind it (nothing is released to say so).
 */
export function discardedLookup(dlq: DeadLetterQueue): (chain: Chain) => Promise<ReadonlySet<bigint>> {
  let cached: { at: number; entries: Awaited<ReturnType<DeadLetterQueue['list']>> } | undefined;
  return async (chain) => {
    if (!cached || Date.now() - cached.at > DISCARDED_TTL_MS) {
      const entries = await dlq.list({ status: 'discarded', limit: Number.MAX_SAFE_INTEGER });
      cached = { at: Date.now(), entries };
    }
    const offsets = new Set<bigint>();
    for (const { record, failure } of cached.entries) {
      if (record.key === chain.key && failure.sourceTopic === chain.sourceTopic)
        offsets.add(failure.sourceOffset);
    }
    return offsets;
  };
}
