import type { OutgoingRecord, StoredRecord } from '../../transport/transport.ts';

/** Prefix of the headers Keel adds to records in retry and dead-letter topics. */
export const FAILURE_HEADER_PREFIX = 'keel_';

/** Why and how often an event failed, and where it came from: carried in `keel_*` headers. */
export interface FailureInfo {
  /** Error class name, e.g. `ValidationError`. */
  errorType: string;
  errorMessage: string;
  errorStack: string;
  /** Error code when the error had one, e.g. `KEEL_VALIDATION`. */
  errorCode?: string;
  /** Handler attempts so far, over every delivery. */
  attempts: number;
  /** Handler name (`<group>:<type>` unless named). */
  handler: string;
  /** Milliseconds since the epoch of the first and the latest failure. */
  firstFailureAt: number;
  lastFailureAt: number;
  /** Where the event was first consumed from. */
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: bigint;
  /** Delivery this record will be (2 for the first delayed retry); retry topics only. */
  delivery?: number;
  /** Milliseconds since the epoch before which a retry record must not be handled; retry topics only. */
  dueAt?: number;
  /**
   * Ordered retries per key: `follower` on an event that waits behind an earlier failed event of its key (it
   * was not handled itself), `head` on a dead letter whose key's later events wait behind it.
   */
  parked?: 'head' | 'follower';
  /** Id of the DLQ entry whose retry or discard released this record back to its source topic. */
  released?: string;
}

const H = {
  errorType: 'keel_error_type',
  errorMessage: 'keel_error_message',
  errorStack: 'keel_error_stack',
  errorCode: 'keel_error_code',
  attempts: 'keel_attempts',
  handler: 'keel_handler',
  firstFailureAt: 'keel_first_failure_at',
  lastFailureAt: 'keel_last_failure_at',
  sourceTopic: 'keel_source_topic',
  sourcePartition: 'keel_source_partition',
  sourceOffset: 'keel_source_offset',
  delivery: 'keel_delivery',
  dueAt: 'keel_due_at',
  parked: 'keel_parked',
  released: 'keel_released',
} as const;

/** Headers of the original record, without failure headers an earlier delivery added. */
export function originalHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => !name.startsWith(FAILURE_HEADER_PREFIX)),
  );
}

/** The original record (key, value and headers unchanged) with failure headers added. */
export function withFailure(record: StoredRecord, info: FailureInfo): OutgoingRecord {
  const headers: Record<string, string> = {
    ...originalHeaders(record.headers),
    [H.errorType]: info.errorType,
    [H.errorMessage]: info.errorMessage,
    [H.errorStack]: info.errorStack,
    [H.attempts]: String(info.attempts),
    [H.handler]: info.handler,
    [H.firstFailureAt]: new Date(info.firstFailureAt).toISOString(),
    [H.lastFailureAt]: new Date(info.lastFailureAt).toISOString(),
    [H.sourceTopic]: info.sourceTopic,
    [H.sourcePartition]: String(info.sourcePartition),
    [H.sourceOffset]: String(info.sourceOffset),
  };
  if (info.errorCode !== undefined) headers[H.errorCode] = info.errorCode;
  if (info.delivery !== undefined) headers[H.delivery] = String(info.delivery);
  if (info.dueAt !== undefined) headers[H.dueAt] = String(info.dueAt);
  if (info.parked !== undefined) headers[H.parked] = info.parked;
  if (info.released !== undefined) headers[H.released] = info.released;
  return { key: record.key, value: record.value, headers };
}

/** Failure headers of a record from a retry or dead-letter topic; undefined for a record without them. */
export function failureOf(record: Pick<StoredRecord, 'headers'>): FailureInfo | undefined {
  const h = record.headers;
  const errorType = h[H.errorType];
  const sourceTopic = h[H.sourceTopic];
  if (errorType === undefined || sourceTopic === undefined) return undefined;
  const info: FailureInfo = {
    errorType,
    errorMessage: h[H.errorMessage] ?? '',
    errorStack: h[H.errorStack] ?? '',
    attempts: Number(h[H.attempts] ?? 0),
    handler: h[H.handler] ?? '',
    firstFailureAt: Date.parse(h[H.firstFailureAt] ?? ''),
    lastFailureAt: Date.parse(h[H.lastFailureAt] ?? ''),
    sourceTopic,
    sourcePartition: Number(h[H.sourcePartition] ?? 0),
    sourceOffset: BigInt(h[H.sourceOffset] ?? 0),
  };
  if (h[H.errorCode] !== undefined) info.errorCode = h[H.errorCode];
  if (h[H.delivery] !== undefined) info.delivery = Number(h[H.delivery]);
  if (h[H.dueAt] !== undefined) info.dueAt = Number(h[H.dueAt]);
  const parked = h[H.parked];
  if (parked === 'head' || parked === 'follower') info.parked = parked;
  if (h[H.released] !== undefined) info.released = h[H.released];
  return info;
}
