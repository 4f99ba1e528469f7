import { FetchIsolationLevels, type fetchV17, Consumer as KafkaClientConsumer } from '@platformatic/kafka';
import type { StoredRecord } from '../transport.ts';
import { kafkaErrorNames, operationError } from './client-errors.ts';
import type { KafkaClientBaseOptions, ResolvedConsumerDefaults } from './kafka-options.ts';
import { CLIENT_RETRY_DELAY_MS } from './producer-session.ts';
import { decodeBatches } from './record-codec.ts';

type FetchResponse = fetchV17.FetchResponse;

/** Reads outside any group (replay, browsing), through a client that never joins one. */
export interface RangeReader {
  /**
   * Up to `maxRecords` committed records of a partition from `fromOffset` (≥ 0, an existing partition),
   * one read at a time: the client's fetch sessions with each broker must not interleave.
   */
  read(topic: string, partition: number, fromOffset: bigint, maxRecords: number): Promise<StoredRecord[]>;
  /** The client, to close with the transport. */
  readonly client: KafkaClientConsumer;
}

/** Creates the reader (it connects on first use). */
export function createRangeReader(
  base: KafkaClientBaseOptions,
  consumerDefaults: ResolvedConsumerDefaults,
): RangeReader {
  const client = new KafkaClientConsumer({
    ...base,
    clientId: `${base.clientId}-reader`,
    groupId: `${base.clientId}-reader`,
    // Reads show what consumers see: committed transactions only (aborted ones are filtered when decoding).
    isolationLevel: FetchIsolationLevels.READ_COMMITTED,
    retries: 3,
    retryDelay: CLIENT_RETRY_DELAY_MS,
  });
  let readQueue: Promise<unknown> = Promise.resolve();
  const fetchMaxBytes = consumerDefaults.fetchMaxBytesPerPartition;
  return {
    client,
    read: (topic, partition, fromOffset, maxRecords) => {
      const run = readQueue.then(() =>
        readRange(client, fetchMaxBytes, topic, partition, fromOffset, maxRecords),
      );
      readQueue = run.catch(() => undefined);
      return run;
    },
  };
}

/**
 * Fetches from the partition leader, page after page, until `maxRecords` records or the last stable
 * offset; a `fromOffset` below the log start reads from the start; control and aborted records skipped.
 */
async function readRange(
  reader: KafkaClientConsumer,
  fetchMaxBytes: number,
  topic: string,
  partition: number,
  fromOffset: bigint,
  maxRecords: number,
): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  let offset = fromOffset;
  for (let attempt = 0; out.length < maxRecords; ) {
    const { response, error } = await fetchOnce(reader, fetchMaxBytes, topic, partition, offset);
    const result = response?.responses[0]?.partitions.find(
      (p: fetchV17.FetchResponsePartition) => p.partitionIndex === partition,
    );
    if (error !== undefined) {
      if (result !== undefined && kafkaErrorNames(error).includes('OFFSET_OUT_OF_RANGE')) {
        // Below the log start (retention deleted it): read on from the start, as the embedded log does.
        if (offset < result.logStartOffset) {
          offset = result.logStartOffset;
          continue;
        }
        break;
      }
      if (++attempt > 3) throw operationError('read', error);
      reader.clearMetadata();
      await new Promise((resolve) => setTimeout(resolve, CLIENT_RETRY_DELAY_MS));
      continue;
    }
    if (result === undefined) break;
    const decoded = decodeBatches(
      topic,
      partition,
      result.records ?? [],
      offset,
      maxRecords - out.length,
      result.abortedTransactions,
    );
    out.push(...decoded.records);
    // Past the last stable offset only records of open transactions remain: not readable yet.
    const readable = result.lastStableOffset >= 0n ? result.lastStableOffset : result.highWatermark;
    if (decoded.nextOffset === undefined || decoded.nextOffset >= readable) break;
    offset = decoded.nextOffset;
  }
  return out;
}

/** One Fetch from the partition's leader; a failed one returns its error (and its partial response). */
async function fetchOnce(
  reader: KafkaClientConsumer,
  fetchMaxBytes: number,
  topic: string,
  partition: number,
  offset: bigint,
): Promise<{ response: FetchResponse | undefined; error: unknown }> {
  if (!reader.topics.has(topic)) reader.topics.track(topic);
  const metadata = await reader.metadata({ topics: [topic] });
  const topicMetadata = metadata.topics.get(topic);
  const leader = topicMetadata?.partitions[partition]?.leader;
  if (topicMetadata === undefined || leader === undefined || leader < 0) {
    reader.clearMetadata();
    return { response: undefined, error: new Error(`no leader for ${topic}[${partition}]`) };
  }
  try {
    const response = await reader.fetch({
      node: leader,
      topics: [
        {
          topicId: topicMetadata.id,
          partitions: [
            {
              partition,
              fetchOffset: offset,
              currentLeaderEpoch: -1,
              lastFetchedEpoch: -1,
              partitionMaxBytes: fetchMaxBytes,
            },
          ],
        },
      ],
      maxWaitTime: 0,
      minBytes: 0,
    });
    return { response, error: undefined };
  } catch (error) {
    return { response: (error as { response?: FetchResponse }).response, error };
  }
}
