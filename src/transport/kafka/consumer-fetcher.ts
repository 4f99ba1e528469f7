import type { fetchV17, Consumer as KafkaClientConsumer } from '@platformatic/kafka';
import type { Logger } from 'pino';
import type { StartFrom, StoredRecord } from '../transport.ts';
import { kafkaErrorNames } from './client-errors.ts';
import { type Holding, holdingKey, type MemberState } from './consumer-state.ts';
import type { ResolvedConsumerDefaults } from './kafka-options.ts';
import { decodeBatches } from './record-codec.ts';

type FetchRequestTopic = fetchV17.FetchRequestTopic;
type FetchResponse = fetchV17.FetchResponse;
/** What one fetch asked of each partition, by `holdingKey`: the holding then, and the offset asked for. */
type Requested = Map<string, { holding: Holding; offset: bigint }>;

/** What a member's fetcher needs. */
export interface FetcherContext {
  client: KafkaClientConsumer;
  member: MemberState;
  /** The member's topics, for metadata lookups. */
  topics: string[];
  defaults: ResolvedConsumerDefaults;
  /** Where a position outside the log restarts. */
  startFrom: StartFrom;
  /** Most records one `poll` returns. */
  maxRecords: number;
  log: Logger;
  wake(): void;
}

/**
 * A member's fetching: one Fetch per leader at a time (the client's fetch sessions) into a small buffer
 * per partition, decoded as it arrives (aborted transactions dropped), so a poll returns only what the
 * member holds now, pause is per partition and nothing fetched for a revoked partition is returned.
 */
export interface Fetcher {
  /** Starts one fetch per leader that has fetchable partitions and no fetch in flight. */
  kick(): Promise<void>;
  /** Takes up to `maxRecords` buffered records, sharing them fairly between the partitions. */
  drain(): StoredRecord[];
  /** Resolves once every fetch in flight has ended. */
  settled(): Promise<unknown>;
}

/** Creates the fetcher of one member. */
export function createFetcher(context: FetcherContext): Fetcher {
  const { client, member, topics, defaults, maxRecords, log, wake } = context;
  const nodeFetches = new Map<number, Promise<void>>();
  let fetchRound = 0;
  let kicking = false;

  const fetchFrom = async (node: number, parts: readonly Holding[], topicIds: Map<string, string>) => {
    const requested: Requested = new Map();
    const byTopic = new Map<string, FetchRequestTopic>();
    for (const h of parts) {
      const topicId = topicIds.get(h.topic)!;
      const request = byTopic.get(topicId) ?? { topicId, partitions: [] };
      request.partitions.push({
        partition: h.partition,
        fetchOffset: h.fetchOffset,
        currentLeaderEpoch: -1,
        lastFetchedEpoch: -1,
        partitionMaxBytes: defaults.fetchMaxBytesPerPartition,
      });
      byTopic.set(topicId, request);
      requested.set(holdingKey(h.topic, h.partition), { holding: h, offset: h.fetchOffset });
    }
    const names = new Map([...topicIds].map(([name, id]) => [id, name]));
    let response: FetchResponse;
    try {
      response = await client.fetch({
        node,
        topics: [...byTopic.values()],
        maxWaitTime: defaults.fetchMaxWaitMs,
        minBytes: 1,
      });
    } catch (error) {
      if (member.phase !== 'joined') return;
      const partial = (error as { response?: FetchResponse }).response;
      if (partial !== undefined && kafkaErrorNames(error).includes('OFFSET_OUT_OF_RANGE')) {
        resetOutOfRange(context, partial, names, requested);
        return;
      }
      log.warn({ err: error, node }, 'kafka consumer: fetch failed; retrying');
      // The node may have died and its partitions moved: look their leaders up again, not in 5 s.
      client.clearMetadata();
      await new Promise((resolve) => setTimeout(resolve, 200));
      return;
    }
    if (member.phase !== 'joined') return;
    for (const topicResponse of response.responses) {
      const topic = names.get(topicResponse.topicId) ?? topicResponse.topicId;
      for (const partitionResponse of topicResponse.partitions) {
        const asked = requested.get(holdingKey(topic, partitionResponse.partitionIndex));
        // A partition revoked, or re-positioned, while the fetch was in flight: its data is stale.
        if (
          asked === undefined ||
          member.holdings.get(holdingKey(topic, asked.holding.partition)) !== asked.holding
        )
          continue;
        if (asked.holding.fetchOffset !== asked.offset) continue;
        const decoded = decodeBatches(
          topic,
          asked.holding.partition,
          partitionResponse.records ?? [],
          asked.offset,
          Number.POSITIVE_INFINITY,
          partitionResponse.abortedTransactions,
        );
        asked.holding.buffer.push(...decoded.records);
        if (decoded.nextOffset !== undefined) asked.holding.fetchOffset = decoded.nextOffset;
      }
    }
  };

  const fetchable = (h: Holding): boolean =>
    h.ready && !h.revoking && h.buffer.length === 0 && !member.paused.has(holdingKey(h.topic, h.partition));

  const kick = async (): Promise<void> => {
    if (kicking || member.phase !== 'joined') return;
    const candidates = [...member.holdings.values()].filter(fetchable);
    if (candidates.length === 0) return;
    kicking = true;
    try {
      const metadata = await client.metadata({ topics });
      const topicIds = new Map<string, string>();
      const byNode = new Map<number, Holding[]>();
      for (const h of candidates) {
        if (!fetchable(h)) continue;
        const topicMetadata = metadata.topics.get(h.topic);
        const leader = topicMetadata?.partitions[h.partition]?.leader;
        if (topicMetadata === undefined || leader === undefined || leader < 0 || nodeFetches.has(leader))
          continue;
        topicIds.set(h.topic, topicMetadata.id);
        byNode.set(leader, [...(byNode.get(leader) ?? []), h]);
      }
      for (const [node, parts] of byNode) {
        const fetching = fetchFrom(node, parts, topicIds).finally(() => {
          nodeFetches.delete(node);
          wake();
        });
        nodeFetches.set(node, fetching);
      }
    } catch (error) {
      log.warn({ err: error }, 'kafka consumer: metadata lookup failed; retrying');
      client.clearMetadata();
    } finally {
      kicking = false;
    }
  };

  const drain = (): StoredRecord[] => {
    const active = [...member.holdings.values()].filter(
      (h) =>
        h.ready && !h.revoking && h.buffer.length > 0 && !member.paused.has(holdingKey(h.topic, h.partition)),
    );
    if (active.length === 0) return [];
    const out: StoredRecord[] = [];
    // Rotate the first partition and cap each one's share so a busy partition cannot starve the rest.
    const start = fetchRound++ % active.length;
    const share = Math.max(1, Math.ceil(maxRecords / active.length));
    const take = (h: Holding, limit: number): void => {
      const taken = h.buffer.splice(0, limit);
      out.push(...taken);
      const last = taken.at(-1);
      if (last !== undefined) h.position = last.offset + 1n;
    };
    for (let i = 0; i < active.length && out.length < maxRecords; i++) {
      take(active[(start + i) % active.length]!, Math.min(share, maxRecords - out.length));
    }
    for (const h of active) {
      if (out.length >= maxRecords) break;
      take(h, maxRecords - out.length);
    }
    return out;
  };

  return { kick, drain, settled: () => Promise.allSettled(nodeFetches.values()) };
}

/**
 * A position outside the log (retention moved its start, or the log was truncated) restarts where
 * `startFrom` says, as Kafka's `auto.offset.reset` does.
 */
function resetOutOfRange(
  context: FetcherContext,
  response: FetchResponse,
  names: Map<string, string>,
  requested: Requested,
): void {
  const { member, startFrom, log } = context;
  for (const topicResponse of response.responses) {
    const topic = names.get(topicResponse.topicId) ?? topicResponse.topicId;
    for (const p of topicResponse.partitions) {
      // 1 is OFFSET_OUT_OF_RANGE; other partitions of the response are simply fetched again.
      if (p.errorCode !== 1) continue;
      const asked = requested.get(holdingKey(topic, p.partitionIndex));
      if (asked === undefined || member.holdings.get(holdingKey(topic, p.partitionIndex)) !== asked.holding)
        continue;
      const reset = startFrom === 'latest' ? p.highWatermark : p.logStartOffset;
      if (reset < 0n) continue;
      log.warn(
        { topic, partition: p.partitionIndex, from: asked.offset, to: reset },
        'kafka consumer: position out of range; reset',
      );
      asked.holding.position = reset;
      asked.holding.fetchOffset = reset;
      asked.holding.buffer = [];
    }
  }
}
