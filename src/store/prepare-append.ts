import type { CloudEvent } from '../events/cloud-event.ts';
import { InvalidAppendError, TenantMismatchError } from './errors.ts';
import type { AppendOptions, ExpectedVersion, OutboxSelector } from './event-store.ts';
import { isExpectedVersion } from './expected-version.ts';
import { encodeStoredEvent } from './stored-event-codec.ts';

/** Longest stream id accepted, in UTF-16 code units. */
export const MAX_STREAM_ID_LENGTH = 1000;

/** One event ready to be written. */
export interface PreparedEvent {
  id: string;
  type: string;
  correlationId: string | null;
  /** The envelope (with `tenantid` filled in when the tenant was named), as appended. */
  event: CloudEvent;
  /** Its stored JSON. */
  json: string;
  /** Outbox row to write with it: null for none, `''` for one whose topic the relay picks, else the topic. */
  outboxTopic: string | null;
}

/** An append checked and encoded before it reaches the database, the same way for every adapter. */
export interface PreparedAppend {
  streamId: string;
  expected: ExpectedVersion;
  /** The tenant named by the options or the events; undefined lets the stream's owner (or the default) apply. */
  tenantId: string | undefined;
  events: PreparedEvent[];
}

/**
 * Checks an append's arguments and encodes its events, asking `outbox` (when the store has one) which of
 * them go to the outbox; throws InvalidAppendError, TenantMismatchError or ValidationError.
 */
export function prepareAppend(
  streamId: string,
  events: readonly CloudEvent[],
  options: AppendOptions,
  outbox?: OutboxSelector,
): PreparedAppend {
  if (typeof streamId !== 'string' || streamId.length === 0 || streamId.length > MAX_STREAM_ID_LENGTH) {
    throw new InvalidAppendError(
      String(streamId),
      `a stream id is a non-empty string of at most ${MAX_STREAM_ID_LENGTH} characters`,
    );
  }
  const expected = options.expectedVersion ?? 'any';
  if (!isExpectedVersion(expected)) {
    throw new InvalidAppendError(
      streamId,
      `expectedVersion must be 'any', 'no_stream', 'stream_exists' or an integer ≥ 0, got ${String(expected)}`,
    );
  }
  if (!Array.isArray(events)) throw new InvalidAppendError(streamId, 'events must be an array');
  if (options.tenantId !== undefined && (typeof options.tenantId !== 'string' || options.tenantId === '')) {
    throw new InvalidAppendError(streamId, 'tenantId must be a non-empty string');
  }

  let tenantId = options.tenantId;
  for (const event of events) {
    const named = event?.tenantid;
    if (named === undefined) continue;
    if (tenantId === undefined) tenantId = named;
    else if (named !== tenantId) {
      throw new TenantMismatchError(
        streamId,
        tenantId,
        `event ${event.id} names tenant "${named}" (one append writes one tenant's events)`,
      );
    }
  }

  const seen = new Set<string>();
  const prepared = events.map((given): PreparedEvent => {
    // Filling in tenantid makes the stored envelope say whose it is, wherever it is relayed later.
    const event =
      tenantId !== undefined && given.tenantid === undefined ? { ...given, tenantid: tenantId } : given;
    const json = encodeStoredEvent(event);
    if (seen.has(event.id)) {
      throw new InvalidAppendError(streamId, `event id ${event.id} appears twice in one append`);
    }
    seen.add(event.id);
    const correlation = event.correlationid;
    let outboxTopic: string | null = null;
    if (outbox !== undefined) {
      const chosen = outbox(event, streamId);
      if (typeof chosen === 'string' && chosen === '') {
        throw new InvalidAppendError(
          streamId,
          `the outbox selector named an empty topic for event ${event.id}`,
        );
      }
      outboxTopic = chosen === true ? '' : chosen === false ? null : chosen;
    }
    return {
      id: event.id,
      type: event.type,
      correlationId: typeof correlation === 'string' ? correlation : null,
      event,
      json,
      outboxTopic,
    };
  });
  return { streamId, expected, tenantId, events: prepared };
}
