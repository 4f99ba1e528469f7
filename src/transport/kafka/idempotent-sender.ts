import type { Logger } from 'pino';
import type { ProducedMessage } from './record-codec.ts';

/** Producer id and epoch the brokers gave one idempotent session (InitProducerId). */
export interface ProducerIdentity {
  producerId: bigint;
  producerEpoch: number;
}

/**
 * One partition's records in one send, with the sequence number of its first record. The sequence is
 * fixed when the send is prepared and kept through every resend, so a leader that already has the batch
 * (the acknowledgement was lost, or the old leader replicated it before it died) recognises the copy and
 * answers with the original offsets instead of writing it twice.
 */
export interface PartitionBatch {
  topic: string;
  partition: number;
  messages: readonly ProducedMessage[];
  firstSequence: number;
}

/** What a broker answered for one partition batch of a produce request. */
export type PartitionOutcome =
  | { batch: PartitionBatch; status: 'written'; baseOffset: bigint }
  /** Not written: a leader moved, too few replicas in sync, a broker unreachable — the same batch may go again. */
  | { batch: PartitionBatch; status: 'retry'; error: unknown }
  /** The brokers no longer know the session (UNKNOWN_PRODUCER_ID, OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH). */
  | { batch: PartitionBatch; status: 'session-lost'; error: unknown }
  /** Sending again cannot help (too large, invalid, not authorised). */
  | { batch: PartitionBatch; status: 'failed'; error: unknown };

/** The requests the sender makes of the cluster; the client's implementation is `produce-link.ts`. */
export interface ProduceLink {
  /** A new idempotent session (InitProducerId). */
  initSession(): Promise<ProducerIdentity>;
  /**
   * Sends the batches, one request per current leader (looked up again when `refresh`), and answers one
   * outcome per batch. Never rejects: a request that failed as a whole answers `retry` or `failed` for each
   * of its batches.
   */
  produce(
    session: ProducerIdentity,
    batches: readonly PartitionBatch[],
    refresh: boolean,
  ): Promise<PartitionOutcome[]>;
}

/** A partition a send wrote, with the offset of its first record (-1 when the brokers did not say). */
export interface WrittenPartition {
  topic: string;
  partition: number;
  offset: bigint;
}

/** What one send achieved: the partitions written, and the error that stopped the others (if any did). */
export interface SendOutcome {
  written: WrittenPartition[];
  /** Set when some partitions were not written: they may or may not have landed. */
  error?: unknown;
}

/** Settings of the idempotent sender. */
export interface IdempotentSenderOptions {
  link: ProduceLink;
  logger: Logger;
  /** Milliseconds a send may take from its first request to its last acknowledgement, resends included. */
  deliveryTimeoutMs: number;
  /** Wraps an error for logs. */
  mapError: (error: unknown) => Error;
}

/** Sends batches with Kafka's idempotence kept across resends (see `createIdempotentSender`). */
export interface IdempotentSender {
  /** Sends the messages (any partitions, in order per partition); resolves once each is written or given up on. */
  send(messages: readonly ProducedMessage[]): Promise<SendOutcome>;
  /** Ends the send in progress at its next pause with `error` for what it has not written; later sends fail at once. */
  stop(error: Error): void;
}

/** Largest sequence number; the next one is 0 (Kafka's `DefaultRecordBatch.incrementSequence`). */
const MAX_SEQUENCE = 2 ** 31 - 1;

/** `sequence + increment`, wrapping past MAX_SEQUENCE to 0 as the brokers expect. */
export function incrementSequence(sequence: number, increment: number): number {
  return sequence > MAX_SEQUENCE - increment
    ? increment - (MAX_SEQUENCE - sequence) - 1
    : sequence + increment;
}

/** Milliseconds to wait before the `attempt`-th resend: 25, doubling up to 400. */
export function resendDelayMs(attempt: number): number {
  return Math.min(400, 25 * 2 ** attempt);
}

const partitionKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/** The messages grouped by partition, in order, without sequence numbers yet. */
function groupByPartition(messages: readonly ProducedMessage[]): Map<string, PartitionBatch> {
  const batches = new Map<string, { topic: string; partition: number; messages: ProducedMessage[] }>();
  for (const message of messages) {
    const partition = message.partition ?? 0;
    const key = partitionKey(message.topic, partition);
    const batch = batches.get(key);
    if (batch) batch.messages.push(message);
    else batches.set(key, { topic: message.topic, partition, messages: [message] });
  }
  const result = new Map<string, PartitionBatch>();
  for (const [key, batch] of batches) result.set(key, { ...batch, firstSequence: 0 });
  return result;
}

/** An idempotent session and the next sequence number of each partition it wrote to. */
interface Session {
  identity: ProducerIdentity;
  nextSequence: Map<string, number>;
}

/** Gives each batch its partition's next sequence numbers in `session`. */
function assignSequences(session: Session, batches: Map<string, PartitionBatch>): void {
  for (const [key, batch] of batches) {
    const first = session.nextSequence.get(key) ?? 0;
    session.nextSequence.set(key, incrementSequence(first, batch.messages.length));
    batches.set(key, { ...batch, firstSequence: first });
  }
}

/**
 * Records the written partitions of one round of requests and takes them off `pending`; answers what the
 * others need: `failed` (one cannot be written), `session-lost` (a new session), else `retry`.
 */
function settle(
  outcomes: readonly PartitionOutcome[],
  pending: Map<string, PartitionBatch>,
  written: WrittenPartition[],
): 'failed' | 'session-lost' | 'retry' {
  let failed = false;
  let sessionLost = false;
  for (const outcome of outcomes) {
    failed ||= outcome.status === 'failed';
    sessionLost ||= outcome.status === 'session-lost';
    if (outcome.status !== 'written') continue;
    const { topic, partition } = outcome.batch;
    written.push({ topic, partition, offset: outcome.baseOffset });
    pending.delete(partitionKey(topic, partition));
  }
  return failed ? 'failed' : sessionLost ? 'session-lost' : 'retry';
}

/** The error of the last outcome that has one (the one a failed send reports). */
function lastErrorOf(outcomes: readonly PartitionOutcome[]): unknown {
  const failed = outcomes.find((outcome) => outcome.status === 'failed');
  if (failed) return failed.error;
  const withError = outcomes.filter((outcome) => outcome.status !== 'written');
  return withError.at(-1)?.error;
}

/**
 * Kafka's idempotent producer, as the Java client does it, over the client's requests: one producer id
 * and epoch for the session; each partition batch gets its sequence numbers once, when first sent; a
 * batch that was not acknowledged (leader moved, broker died, request timed out) is sent again **as the
 * same batch with the same sequence numbers** to the partition's current leader, so the brokers drop a copy
 * they already have and answer with its offsets. Resends wait 25 ms, doubling up to 400 ms, with the
 * leaders looked up again, until every partition is written or `deliveryTimeoutMs` passes.
 *
 * A new session is started only when the brokers no longer know the current one (its batches are then
 * sent again under the new one: if the old one did write them, they are written twice — the one case of a
 * duplicate, logged), or after a send that gave up, since the sequence numbers of the partitions it left
 * unknown can no longer be trusted. The caller keeps at most one send in flight, which keeps per-partition
 * order and keeps every resend within the five batches a broker remembers per producer.
 */
export function createIdempotentSender(options: IdempotentSenderOptions): IdempotentSender {
  const { link, logger, deliveryTimeoutMs, mapError } = options;
  let session: Session | undefined;
  let stopped: Error | undefined;
  let wake: (() => void) | undefined;

  const openSession = async (): Promise<Session> => {
    session ??= { identity: await link.initSession(), nextSequence: new Map() };
    return session;
  };

  /**
   * Waits for `work` at most `ms` (and not past a stop): undefined when it did not settle in time. A
   * request that hangs (a broker shutting down, connections timing out one bootstrap broker after another)
   * must not hold a send past its delivery timeout; what it does later is ignored, and the session is
   * renewed when the send gives up.
   */
  const within = <T>(work: Promise<T>, ms: number): Promise<T | undefined> =>
    new Promise<T | undefined>((resolve, reject) => {
      const timer = setTimeout(() => resolve(undefined), Math.max(0, ms));
      wake = () => resolve(undefined);
      work.then(resolve, reject).finally(() => clearTimeout(timer));
    }).finally(() => {
      wake = undefined;
    });

  const send = async (messages: readonly ProducedMessage[]): Promise<SendOutcome> => {
    const started = performance.now();
    const remaining = () => deliveryTimeoutMs - (performance.now() - started);
    const pending = groupByPartition(messages);
    const written: WrittenPartition[] = [];
    let current: Session | undefined;
    let lastError: unknown;
    for (let attempt = 0; ; attempt++) {
      if (stopped) return { written, error: stopped };
      try {
        if (current === undefined) {
          current = await within(openSession(), remaining());
          if (current !== undefined) assignSequences(current, pending);
        }
        const outcomes =
          current &&
          (await within(link.produce(current.identity, [...pending.values()], attempt > 0), remaining()));
        if (outcomes === undefined) {
          lastError ??= new Error(`not acknowledged within the delivery timeout (${deliveryTimeoutMs} ms)`);
        } else {
          const result = settle(outcomes, pending, written);
          if (result === 'failed') {
            session = undefined;
            return { written, error: lastErrorOf(outcomes) };
          }
          if (pending.size === 0) return { written };
          lastError = lastErrorOf(outcomes);
          if (result === 'session-lost') {
            logger.warn(
              { err: mapError(lastError), partitions: pending.size },
              'kafka transport: the brokers lost the idempotent session; its unacknowledged batches go again in a new one and may be written twice',
            );
            if (session === current) session = undefined;
            current = undefined;
          }
        }
      } catch (error) {
        // Only a new session's InitProducerId rejects here (the link answers outcomes otherwise).
        lastError = error;
      }
      if (stopped) return { written, error: stopped };
      if (remaining() <= 0) {
        session = undefined;
        return { written, error: lastError };
      }
      const delay = Math.min(resendDelayMs(attempt), remaining());
      logger.warn(
        { err: mapError(lastError), partitions: pending.size, inMs: delay, resend: attempt + 1 },
        'kafka transport: produce request failed; sending again',
      );
      await within(new Promise<void>((resolve) => setTimeout(resolve, delay)), delay);
    }
  };

  return {
    send,
    stop: (error) => {
      stopped = error;
      wake?.();
    },
  };
}
