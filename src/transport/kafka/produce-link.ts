import {
  type Broker,
  type ClusterMetadata,
  GenericError,
  type Producer,
  protocolErrors,
  protocolErrorsCodesById,
} from '@platformatic/kafka';
import type { PartitionBatch, PartitionOutcome, ProduceLink, ProducerIdentity } from './idempotent-sender.ts';
import type { KafkaCompression } from './kafka-options.ts';
import { connectionTo, negotiatedApi } from './raw-api.ts';

/** `acks=all`: the leader answers once every in-sync replica has the batch. */
const ACKS_ALL = -1;

/** Broker answers that mean the brokers no longer know the producer's session or its sequence numbers. */
const SESSION_LOST = new Set([
  'UNKNOWN_PRODUCER_ID',
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'INVALID_PRODUCER_EPOCH',
]);

/** Client errors of a request that never got an answer: the batch may go again with its sequence numbers. */
const UNANSWERED = new Set(['PLT_KFK_NETWORK', 'PLT_KFK_TIMEOUT']);

interface PartitionResponse {
  index: number;
  errorCode: number;
  baseOffset: bigint;
  errorMessage?: string | null;
}
interface ProduceResponse {
  responses: Array<{ name: string; partitionResponses: PartitionResponse[] }>;
}
type ProduceArgs = [number, number, readonly unknown[], Record<string, unknown>];

/** Where `link.produce` sends: the client whose connections, metadata and API versions it uses. */
export interface ProduceLinkOptions {
  producer: Producer;
  compression: KafkaCompression;
  /** Milliseconds the leader may wait for the in-sync replicas before it answers REQUEST_TIMED_OUT. */
  requestTimeoutMs: number;
}

/** A partition's answer as a Kafka protocol error, for logs and the caller's error. */
export class PartitionProduceError extends Error {
  /** The brokers' error name, e.g. `NOT_LEADER_OR_FOLLOWER`. */
  readonly apiId: string;

  constructor(topic: string, partition: number, apiId: string, detail: string | null | undefined) {
    super(`${topic}[${partition}]: ${apiId}${detail ? ` (${detail})` : ''}`);
    this.apiId = apiId;
  }
}

/** What the brokers' error code for one partition means for its batch. */
export function classifyPartitionAnswer(batch: PartitionBatch, answer: PartitionResponse): PartitionOutcome {
  if (answer.errorCode === 0) return { batch, status: 'written', baseOffset: answer.baseOffset };
  const apiId =
    protocolErrorsCodesById[answer.errorCode as keyof typeof protocolErrorsCodesById] ?? 'UNKNOWN';
  // A copy of a batch older than the five the broker remembers: it was written, where is not said.
  if (apiId === 'DUPLICATE_SEQUENCE_NUMBER') return { batch, status: 'written', baseOffset: -1n };
  const error = new PartitionProduceError(batch.topic, batch.partition, apiId, answer.errorMessage);
  if (SESSION_LOST.has(apiId)) return { batch, status: 'session-lost', error };
  const known = protocolErrors[apiId as keyof typeof protocolErrors] as { canRetry?: boolean } | undefined;
  return { batch, status: known?.canRetry === true ? 'retry' : 'failed', error };
}

/** What a request that failed as a whole means for each of its batches. */
function unansweredOutcomes(batches: readonly PartitionBatch[], error: unknown): PartitionOutcome[] {
  const response = (error as { response?: ProduceResponse } | null)?.response;
  if (response?.responses) return answeredOutcomes(batches, response);
  const code = (error as { code?: unknown } | null)?.code;
  const retry =
    (typeof code === 'string' && UNANSWERED.has(code)) ||
    (error instanceof Error && GenericError.isGenericError(error) && error.canRetry !== false);
  return batches.map((batch) => ({ batch, status: retry ? 'retry' : 'failed', error }));
}

/** One outcome per batch from a produce response (a batch it does not mention goes again). */
function answeredOutcomes(batches: readonly PartitionBatch[], response: ProduceResponse): PartitionOutcome[] {
  const answers = new Map<string, PartitionResponse>();
  for (const topic of response.responses) {
    for (const answer of topic.partitionResponses) answers.set(`${topic.name}\u0000${answer.index}`, answer);
  }
  return batches.map((batch) => {
    const answer = answers.get(`${batch.topic}\u0000${batch.partition}`);
    if (answer) return classifyPartitionAnswer(batch, answer);
    return { batch, status: 'retry', error: new Error(`${batch.topic}[${batch.partition}]: no answer`) };
  });
}

/** The batches grouped by the broker that leads their partition; batches without a known leader apart. */
function byLeader(
  metadata: ClusterMetadata,
  batches: readonly PartitionBatch[],
): { groups: Map<Broker, PartitionBatch[]>; leaderless: PartitionBatch[] } {
  const groups = new Map<Broker, PartitionBatch[]>();
  const leaderless: PartitionBatch[] = [];
  for (const batch of batches) {
    const leader = metadata.topics.get(batch.topic)?.partitions[batch.partition]?.leader;
    const broker = leader === undefined || leader < 0 ? undefined : metadata.brokers.get(leader);
    if (broker === undefined) {
      leaderless.push(batch);
      continue;
    }
    const group = groups.get(broker);
    if (group) group.push(batch);
    else groups.set(broker, [batch]);
  }
  return { groups, leaderless };
}

/**
 * The sender's requests over `@platformatic/kafka`: InitProducerId through the client, and Produce
 * requests built here — one per current leader, each partition batch with the sequence numbers the sender
 * gave it — through the client's connections and API negotiation. The client's own `send` cannot be used
 * for this: it takes sequence numbers from its counters at every call, and starts a new session after
 * any failed send.
 */
export function createProduceLink(options: ProduceLinkOptions): ProduceLink {
  const { producer, compression, requestTimeoutMs } = options;
  let api: ReturnType<typeof negotiatedApi<ProduceArgs, ProduceResponse>> | undefined;

  const produceTo = async (
    broker: Broker,
    session: ProducerIdentity,
    batches: readonly PartitionBatch[],
  ): Promise<PartitionOutcome[]> => {
    const sequences = new Map<string, number>();
    for (const batch of batches) sequences.set(`${batch.topic}:${batch.partition}`, batch.firstSequence);
    try {
      api ??= negotiatedApi<ProduceArgs, ProduceResponse>(producer, 'Produce');
      const produce = await api.catch((error: unknown) => {
        api = undefined;
        throw error;
      });
      const response = await produce.async(
        await connectionTo(producer, broker),
        ACKS_ALL,
        requestTimeoutMs,
        batches.flatMap((batch) => batch.messages),
        {
          producerId: session.producerId,
          producerEpoch: session.producerEpoch,
          compression,
          // The client's record encoder reads each batch's first sequence from this map.
          sequences: { getWithDefault: (key: string, fallback: number) => sequences.get(key) ?? fallback },
        },
      );
      return answeredOutcomes(batches, response);
    } catch (error) {
      return unansweredOutcomes(batches, error);
    }
  };

  return {
    initSession: async () => {
      const info = await producer.initIdempotentProducer({});
      return { producerId: info.producerId, producerEpoch: info.producerEpoch };
    },
    produce: async (session, batches, refresh) => {
      const topics = [...new Set(batches.map((batch) => batch.topic))];
      let metadata: ClusterMetadata;
      try {
        // No retries of its own: the sender sends again, within the batch's delivery timeout.
        metadata = await producer.metadata({ topics, forceUpdate: refresh, retries: 0 });
      } catch (error) {
        return unansweredOutcomes(batches, error);
      }
      const { groups, leaderless } = byLeader(metadata, batches);
      const answered = await Promise.all(
        [...groups].map(([broker, group]) => produceTo(broker, session, group)),
      );
      const noLeader = (batch: PartitionBatch): PartitionOutcome => ({
        batch,
        status: 'retry',
        error: new Error(`${batch.topic}[${batch.partition}]: no leader known`),
      });
      return [...answered.flat(), ...leaderless.map(noLeader)];
    },
  };
}
