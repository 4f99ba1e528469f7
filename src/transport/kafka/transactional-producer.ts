import { randomUUID } from 'node:crypto';
import {
  type Admin,
  FetchIsolationLevels,
  ListOffsetTimestamps,
  type ProduceResult,
  Producer,
} from '@platformatic/kafka';
import type { Logger } from 'pino';
import { hasKafkaError, isRetryableClientError } from './client-errors.ts';
import { findCoordinatorId } from './group-admin.ts';
import type { KafkaClientBaseOptions, ResolvedProducerOptions } from './kafka-options.ts';
import type { ProducedMessage } from './record-codec.ts';
import type { TransactionOffsets, TransactionProgress } from './transaction-queue.ts';

// The coordinator answers CONCURRENT_TRANSACTIONS while it still writes the previous transaction's markers;
// the client's retry delay is all a new transaction then waits, so the transactional producer's is short.
const TRANSACTION_RETRY_DELAY_MS = 20;
/** Retries the transactional client makes inside one request: about two seconds. */
const TRANSACTION_CLIENT_RETRIES = 100;
/** Errors of a producer's idempotence state, which a transaction on a fresh producer does not meet. */
const PRODUCER_STATE_ERRORS = [
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'INVALID_PRODUCER_EPOCH',
  'UNKNOWN_PRODUCER_ID',
];

/**
 * The producer behind `appendAtomically`, created on first use so plain users pay nothing. A failed send or
 * a failed abort drops it, and the next transaction starts on a fresh one (its InitProducerId fences the
 * old epoch and aborts what it left).
 */
export interface TransactionalProducer {
  /**
   * One Kafka transaction carrying `chunks` (one produce request each), resolved once committed and
   * readable. `progress.committing` turns true as EndTxn is sent: a failure after that leaves the outcome
   * unknown, one before it left nothing written (the transaction was aborted).
   */
  attempt(
    chunks: ProducedMessage[][],
    progress: TransactionProgress,
    offsets?: TransactionOffsets,
  ): Promise<ProduceResult[]>;
  /** Makes the next transaction look the partitions' leaders up again. */
  refresh(): void;
  /** The producer now in use, if any (to close it with the transport). */
  current(): Producer | undefined;
}

/** What the transactional producer needs from its transport. */
export interface TransactionalProducerContext {
  base: KafkaClientBaseOptions;
  settings: ResolvedProducerOptions;
  logger: Logger;
  /** For the last stable offsets that tell a committed transaction readable. */
  admin: Admin;
}

/** Whether a transaction that failed before its commit may succeed when run again on a fresh producer. */
export function isCurableTransactionError(error: unknown): boolean {
  return isRetryableClientError(error) || PRODUCER_STATE_ERRORS.some((name) => hasKafkaError(error, name));
}

/** Creates the transactional producer holder (no connection until the first transaction). */
export function createTransactionalProducer(context: TransactionalProducerContext): TransactionalProducer {
  const { base, settings, logger, admin } = context;
  let transactional: Producer | undefined;
  const transactionalId = settings.transactionalId ?? `${base.clientId}-${randomUUID()}`;
  const producer = (): Producer =>
    (transactional ??= new Producer({
      ...base,
      clientId: `${base.clientId}-transactions`,
      idempotent: true,
      transactionalId,
      // InitProducerId must say "no previous producer" (-1), or the coordinator refuses a restart under the same
      // id as fenced; the client sends 0 when not told.
      producerId: -1n,
      producerEpoch: -1,
      acks: -1,
      compression: settings.compression,
      // Sent with InitProducerId, the client's `timeout` is the brokers' transaction timeout.
      timeout: settings.transactionTimeoutMs,
      // Like the plain producer's: a short budget inside one request (it also covers CONCURRENT_TRANSACTIONS,
      // answered for the milliseconds the coordinator writes the previous markers); a transaction that still
      // fails before its commit is aborted and run again with fresh leaders (`runAgainBeforeCommit`).
      retries: TRANSACTION_CLIENT_RETRIES,
      retryDelay: TRANSACTION_RETRY_DELAY_MS,
    }));

  // After a failed send the client's sequence numbers no longer match the brokers' (it resets them for
  // idempotent producers only), so every later transaction on it would fail with
  // OUT_OF_ORDER_SEQUENCE_NUMBER; after a failed abort the transaction is still open. Either way the next
  // one starts on a fresh producer, whose InitProducerId fences this one and aborts what it left open.
  const replace = async (client: Producer): Promise<void> => {
    if (transactional !== client) return;
    transactional = undefined;
    await client.close(true).catch((closeError: unknown) => {
      logger.debug({ err: closeError }, 'kafka transport: closing the replaced producer failed');
    });
  };

  const attempt = async (
    chunks: ProducedMessage[][],
    progress: TransactionProgress,
    offsets?: TransactionOffsets,
  ) => {
    const client = producer();
    // The coordinator aborts a transaction left open this long: past it, sending its commit again is pointless.
    const abortedBy = Date.now() + settings.transactionTimeoutMs;
    let tx: Awaited<ReturnType<Producer['beginTransaction']>>;
    try {
      tx = await client.beginTransaction();
    } catch (error) {
      // The client keeps a transaction that failed to begin as the active one; let it go.
      await client.transaction?.cancel();
      throw error;
    }
    try {
      const results = [];
      for (const messages of chunks) results.push(await tx.send({ messages }));
      if (offsets !== undefined) await addOffsets(tx, offsets, await findCoordinatorId(admin, offsets.group));
      progress.committing = true;
      await commitThroughCoordinatorChange(tx, abortedBy, logger);
      // Committed is committed: failing the append now would have its caller write it twice.
      await untilReadable(admin, chunks, results, settings.transactionTimeoutMs, logger).catch(
        (error: unknown) => {
          logger.warn(
            { err: error },
            'kafka transport: committed transaction; cannot tell yet that it is readable',
          );
        },
      );
      return results;
    } catch (error) {
      let failedSend = !progress.committing;
      if (!tx.completed) {
        try {
          await tx.abort();
        } catch (abortError) {
          logger.warn({ err: abortError }, 'kafka transport: abort failed');
          failedSend = true;
        }
      }
      if (failedSend) await replace(client);
      throw error;
    }
  };

  return {
    attempt,
    refresh: () => transactional?.clearMetadata(),
    current: () => transactional,
  };
}

/** A transaction of the client (its class is not exported). */
type Transaction = Awaited<ReturnType<Producer['beginTransaction']>>;

/** Longest pause between two EndTxn(commit) sends of one transaction. */
const COMMIT_RESEND_MAX_PAUSE_MS = 500;

/**
 * Sends EndTxn(commit) until the coordinator answers. When the broker that coordinates the transaction dies,
 * the client's own retries (about two seconds) keep finding it as the coordinator until the brokers' session
 * for it expires and another takes the transaction log over; the transaction is then still open (or half
 * committed) there, and a commit sent again completes it: Kafka's EndTxn is made to be sent again, and
 * answers success for a transaction it already committed. Given up (rejected, outcome unknown) on an error
 * no resend can cure, or once the coordinator would have aborted the transaction on its time-out.
 */
async function commitThroughCoordinatorChange(
  tx: Transaction,
  abortedBy: number,
  logger: Logger,
): Promise<void> {
  for (let resend = 0; ; resend++) {
    try {
      await tx.commit();
      return;
    } catch (error) {
      const pause = Math.min(COMMIT_RESEND_MAX_PAUSE_MS, 50 * 2 ** resend);
      if (!isRetryableClientError(error) || Date.now() + pause >= abortedBy) throw error;
      logger.warn(
        { err: error, inMs: pause, resend: resend + 1 },
        'kafka transport: commit not answered (the transaction coordinator moves); sending it again',
      );
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

/** The client's view of a consumed message, as much as `Transaction.addOffset` reads of it. */
type OffsetMessage = Parameters<Transaction['addOffset']>[0];

/**
 * Adds a member's offsets to the transaction (AddOffsetsToTxn, then one TxnOffsetCommit per partition, sent together, fenced
 * on the member's generation). The client commits a message's offset + 1, so each is passed one lower. The
 * group's coordinator is looked up by each attempt: the client sends TxnOffsetCommit to the node it is given
 * and retries NOT_COORDINATOR there, so a transaction run again after the coordinator moved must name the new one.
 */
async function addOffsets(
  tx: Transaction,
  offsets: TransactionOffsets,
  coordinatorId: number,
): Promise<void> {
  await tx.addConsumer({ groupId: offsets.group } as Parameters<Transaction['addConsumer']>[0]);
  const consumer = {
    groupId: offsets.group,
    generationId: offsets.generation,
    memberId: offsets.memberId,
    coordinatorId,
  };
  // One request per partition, all to the group's coordinator: sent together, not one round trip each.
  await Promise.all(
    offsets.offsets.map((o) => {
      const message = {
        topic: o.topic,
        partition: o.partition,
        offset: o.offset - 1n,
        metadata: { consumer },
      };
      return tx.addOffset(message as unknown as OffsetMessage);
    }),
  );
}

/**
 * Waits until every partition a committed transaction wrote has its last stable offset past it. EndTxn
 * returns before the brokers wrote the commit markers, and `read_committed` readers see nothing of the
 * transaction until they did: waiting gives atomic appends read-your-writes, like `append`; a later
 * transaction would wait for the markers anyway (CONCURRENT_TRANSACTIONS). Gives up (logged) after
 * `timeoutMs` milliseconds: the markers will come, and the caller is not failed for their delay.
 */
export async function untilReadable(
  admin: Admin,
  chunks: readonly ProducedMessage[][],
  results: readonly ProduceResult[],
  timeoutMs: number,
  logger: Logger,
): Promise<void> {
  const ends = writtenEnds(chunks, results);
  const deadline = Date.now() + timeoutMs;
  while (ends.size > 0) {
    const listed = await admin.listOffsets({
      isolationLevel: FetchIsolationLevels.READ_COMMITTED,
      topics: [...ends].map(([name, partitions]) => ({
        name,
        partitions: [...partitions.keys()].map((partitionIndex) => ({
          partitionIndex,
          timestamp: ListOffsetTimestamps.LATEST,
        })),
      })),
    });
    for (const topic of listed) {
      const partitions = ends.get(topic.name);
      for (const p of topic.partitions) {
        if (partitions !== undefined && p.offset >= (partitions.get(p.partitionIndex) ?? 0n))
          partitions.delete(p.partitionIndex);
      }
      if (partitions?.size === 0) ends.delete(topic.name);
    }
    if (ends.size === 0) return;
    if (Date.now() > deadline) {
      logger.warn(
        { partitions: [...ends.keys()] },
        'kafka transport: committed transaction not yet readable',
      );
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** For each topic and partition a transaction wrote, the offset just past its last record there. */
function writtenEnds(
  chunks: readonly ProducedMessage[][],
  results: readonly ProduceResult[],
): Map<string, Map<number, bigint>> {
  const ends = new Map<string, Map<number, bigint>>();
  chunks.forEach((messages, c) => {
    const counts = new Map<string, bigint>();
    for (const m of messages) {
      const id = `${m.topic}\u0000${m.partition}`;
      counts.set(id, (counts.get(id) ?? 0n) + 1n);
    }
    for (const produced of results[c]?.offsets ?? []) {
      const count = counts.get(`${produced.topic}\u0000${produced.partition}`) ?? 0n;
      const partitions = ends.get(produced.topic) ?? new Map<number, bigint>();
      const end = produced.offset + count;
      if ((partitions.get(produced.partition) ?? -1n) < end) partitions.set(produced.partition, end);
      ends.set(produced.topic, partitions);
    }
  });
  return ends;
}
