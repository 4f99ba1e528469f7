import type { Logger } from 'pino';
import type { CloudEvent } from '../../events/cloud-event.ts';
import type { KeelMetrics } from '../../observability/metrics.ts';
import type { PartitionWrite, StoredRecord } from '../../transport/transport.ts';
import type { PartitionProgress } from '../partition-progress.ts';
import { type FailureInfo, withFailure } from './failure-headers.ts';
import { deadLetterTopic, retryTopic } from './topic-names.ts';

/** An event (or an undecodable record) that failed, as the escalation step is told of it. */
export interface Failure {
  record: StoredRecord;
  /** Undefined when the record could not be decoded. */
  event: CloudEvent | undefined;
  error: unknown;
  /** Handler name, as in metrics and dead letters. */
  handler: string;
  /** Failure headers of the record when it came from a delayed-retry topic. */
  previous: FailureInfo | undefined;
  /** Handler attempts of this delivery (0 when no handler ran). */
  attempts: number;
  /** Progress of the record's partition: the move commits past the record. */
  progress: PartitionProgress;
}

/** Moves a record on and commits past it in one step (the commit loop's `move`). */
export type MoveRecord = (
  progress: PartitionProgress,
  offset: bigint,
  writes: readonly PartitionWrite[],
) => Promise<boolean>;

/** Told of each escalation before its move, so parked keys follow it; says how a dead letter parks. */
export interface EscalationListener {
  /** `stage` is the delayed-retry step (1-based) or `delays.length + 1` for the DLQ; returns the entry's parked mark. */
  escalating(failure: Failure, stage: number): FailureInfo['parked'];
}

/** What was thrown, as an Error (a thrown string or other value becomes an Error's message). */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** The failure headers of a failed record, at `now` (milliseconds since the epoch): first ones or updated. */
export function failureInfo(failure: Failure, now: number): FailureInfo {
  const { record, error, previous } = failure;
  const failed = asError(error);
  const info: FailureInfo = {
    errorType: failed.name,
    errorMessage: failed.message,
    errorStack: failed.stack ?? '',
    attempts: (previous?.attempts ?? 0) + failure.attempts,
    handler: failure.handler,
    firstFailureAt: previous?.firstFailureAt ?? now,
    lastFailureAt: now,
    sourceTopic: previous?.sourceTopic ?? record.topic,
    sourcePartition: previous?.sourcePartition ?? record.partition,
    sourceOffset: previous?.sourceOffset ?? record.offset,
  };
  const code = (error as { code?: unknown } | null | undefined)?.code;
  if (typeof code === 'string') info.errorCode = code;
  return info;
}

/** What escalation needs. */
export interface EscalationOptions {
  group: string;
  /** Delays of the group's delayed-retry topics, in milliseconds, in order. */
  delays: readonly number[];
  /** Whether a failure may still succeed on a later delivery. */
  isRetryable: (error: unknown) => boolean;
  /** Partitions of a retry or dead-letter topic (known once the router started). */
  partitionsOf: (topic: string) => number;
  /** Moves a failed record on atomically with the commit past it. */
  move: MoveRecord;
  /** Told before each move (ordered retries per key). */
  listener?: EscalationListener;
  logger: Logger;
  metrics?: KeelMetrics;
}

/** Hands failed events on; remembers the last failure for health reports. */
export interface Escalation {
  /**
   * Moves a failed event to the next delayed-retry topic when it may still succeed, else to the
   * dead-letter topic; resolves true once it is there (its offset may then commit), false on shutdown.
   */
  escalate(failure: Failure): Promise<boolean>;
  /** The last failure escalated. */
  lastError(): { type: string; message: string; at: string } | undefined;
}

/** Creates the escalation step of a router: delayed-retry topics, then the dead-letter topic. */
export function createEscalation(options: EscalationOptions): Escalation {
  const { group, delays, logger, metrics } = options;
  const dlqTopic = deadLetterTopic(group);
  let lastError: { type: string; message: string; at: string } | undefined;

  return {
    lastError: () => lastError,
    escalate(failure) {
      const now = Date.now();
      const info = failureInfo(failure, now);
      const { event, error } = failure;
      lastError = { message: info.errorMessage, type: info.errorType, at: new Date(now).toISOString() };
      const delivery = failure.previous?.delivery ?? 1;
      // A record released from the DLQ gets one delivery: failing again, it goes back there.
      const delay = failure.previous?.released === undefined ? delays[delivery - 1] : undefined;
      if (event !== undefined && options.isRetryable(error) && delay !== undefined) {
        info.delivery = delivery + 1;
        info.dueAt = now + delay;
        options.listener?.escalating(failure, delivery);
        logger.warn(
          { err: asError(error), id: event.id, type: event.type, delivery, nextInMs: delay },
          'handler failed; event moved to a delayed-retry topic',
        );
        return moveTo(options, failure, retryTopic(group, delay), info);
      }
      const parked = options.listener?.escalating(failure, delays.length + 1);
      if (parked !== undefined) info.parked = parked;
      logger.error(
        { err: asError(error), id: event?.id, type: event?.type, attempts: info.attempts },
        'event dead-lettered',
      );
      metrics?.dlqMessages.inc({ group, type: event?.type ?? 'undecodable', error: info.errorType });
      return moveTo(options, failure, dlqTopic, info);
    },
  };
}

/**
 * Moves a failed record to a retry or dead-letter topic, in the partition of its source partition's number,
 * so every record of a key's chain sits in partitions the same member holds.
 */
function moveTo(options: EscalationOptions, failure: Failure, topic: string, info: FailureInfo) {
  const partition = info.sourcePartition % options.partitionsOf(topic);
  const write = { topic, partition, records: [withFailure(failure.record, info)] };
  return options.move(failure.progress, failure.record.offset, [write]);
}
