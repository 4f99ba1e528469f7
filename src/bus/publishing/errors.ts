import { KeelError } from '../../errors/keel-error.ts';
import { OptionsError } from '../../errors/options.ts';
import type { CloudEvent } from '../../events/cloud-event.ts';

/** Publisher options that break their schema; nothing was opened. */
export class PublisherOptionsError extends OptionsError {
  override readonly code = 'KEEL_PUBLISHER_OPTIONS';

  constructor(issues: readonly string[]) {
    super('publisher', issues);
  }
}

/** A publish on a publisher whose `close()` was called. */
export class PublisherClosedError extends KeelError {
  readonly code = 'KEEL_PUBLISHER_CLOSED';
  /** What was attempted, e.g. `publish` or `request`. */
  readonly operation: string;

  constructor(operation: string) {
    super(`${operation}: the publisher is closed`);
    this.operation = operation;
  }
}

/** Why the transport was given up on for one publish. */
export type UnavailableReason = 'retries-exhausted' | 'circuit-open';

/**
 * The transport did not take a publish (retries exhausted, or the circuit breaker is open) and the
 * publisher has no local buffer to keep it in. Nothing of this publish was written.
 */
export class PublishUnavailableError extends KeelError {
  readonly code = 'KEEL_PUBLISH_UNAVAILABLE';
  readonly reason: UnavailableReason;
  /** Appends tried for this publish (0 when the breaker was already open). */
  readonly attempts: number;
  /** Ids of the events of the failed publish. */
  readonly eventIds: readonly string[];

  constructor(reason: UnavailableReason, attempts: number, eventIds: readonly string[], cause: unknown) {
    super(
      reason === 'circuit-open'
        ? `transport unavailable: the publisher's circuit breaker is open (${eventIds.length} event(s) not published; configure a local buffer to keep them)`
        : `transport unavailable after ${attempts} attempt(s): ${(cause as Error | undefined)?.message ?? String(cause)} (${eventIds.length} event(s) not published)`,
      { cause },
    );
    this.reason = reason;
    this.attempts = attempts;
    this.eventIds = eventIds;
  }
}

/** The local durable buffer cannot take a publish without going over its limits; nothing was buffered. */
export class BufferFullError extends KeelError {
  readonly code = 'KEEL_PUBLISH_BUFFER_FULL';
  /** The buffer file. */
  readonly path: string;
  /** Events held now. */
  readonly events: number;
  /** Most events the buffer may hold. */
  readonly maxEvents: number;
  /** Bytes held now. */
  readonly bytes: number;
  /** Most bytes the buffer may hold. */
  readonly maxBytes: number;
  /** Events of the refused publish. */
  readonly refusedEvents: number;
  /** Bytes of the refused publish's encoded events. */
  readonly refusedBytes: number;

  constructor(details: {
    path: string;
    events: number;
    maxEvents: number;
    bytes: number;
    maxBytes: number;
    refusedEvents: number;
    refusedBytes: number;
  }) {
    super(
      `publish buffer ${details.path} is full (${details.events}/${details.maxEvents} events, ${details.bytes}/${details.maxBytes} bytes): ` +
        `${details.refusedEvents} event(s) of ${details.refusedBytes} bytes refused while the transport is unreachable`,
    );
    this.path = details.path;
    this.events = details.events;
    this.maxEvents = details.maxEvents;
    this.bytes = details.bytes;
    this.maxBytes = details.maxBytes;
    this.refusedEvents = details.refusedEvents;
    this.refusedBytes = details.refusedBytes;
  }
}

/** The buffer file is held by another publisher (in this or another process): one buffer has one owner. */
export class BufferLockedError extends KeelError {
  readonly code = 'KEEL_PUBLISH_BUFFER_LOCKED';
  readonly path: string;

  constructor(path: string, cause: unknown) {
    super(`publish buffer ${path} is in use by another publisher; give each publisher its own file`, {
      cause,
    });
    this.path = path;
  }
}

/** `tx.publish` called after the transaction's callback returned (or threw). */
export class TransactionClosedError extends KeelError {
  readonly code = 'KEEL_TRANSACTION_CLOSED';

  constructor() {
    super('the transaction is over: stage events inside the transaction callback, before it returns');
  }
}

/** No reply arrived in time. The request may still be handled; its reply would be ignored. */
export class RequestTimeoutError extends KeelError {
  readonly code = 'KEEL_REQUEST_TIMEOUT';
  /** Id of the request event, which replies carry as `inreplyto`. */
  readonly requestId: string;
  /** Type of the request event. */
  readonly requestType: string;
  /** Topic the reply was awaited on. */
  readonly replyTopic: string;
  /** Milliseconds waited. */
  readonly timeoutMs: number;

  constructor(requestId: string, requestType: string, replyTopic: string, timeoutMs: number) {
    super(`no reply to ${requestType} request ${requestId} on "${replyTopic}" within ${timeoutMs} ms`);
    this.requestId = requestId;
    this.requestType = requestType;
    this.replyTopic = replyTopic;
    this.timeoutMs = timeoutMs;
  }
}

/** The responder answered a request with an error reply (`keel.reply.error`). */
export class RemoteError extends KeelError {
  readonly code = 'KEEL_REMOTE_ERROR';
  /** `name` of the error the responder raised, e.g. `ValidationError`. */
  readonly remoteName: string;
  /** `code` of the error the responder raised, when it had one. */
  readonly remoteCode: string | undefined;
  readonly requestId: string;
  readonly requestType: string;
  /** The error reply as received. */
  readonly reply: CloudEvent;

  constructor(
    remote: { name: string; message: string; code?: string | undefined },
    requestId: string,
    requestType: string,
    reply: CloudEvent,
  ) {
    super(`${requestType} request ${requestId} failed remotely: ${remote.name}: ${remote.message}`);
    this.remoteName = remote.name;
    this.remoteCode = remote.code;
    this.requestId = requestId;
    this.requestType = requestType;
    this.reply = reply;
  }
}

/** A reply attempted to an event that is not a request: it has no `replyto` extension. */
export class NotARequestError extends KeelError {
  readonly code = 'KEEL_NOT_A_REQUEST';
  readonly eventId: string;
  readonly eventType: string;

  constructor(event: CloudEvent) {
    super(
      `event ${event.id} (${event.type}) has no replyto extension: it was not sent with publisher.request`,
    );
    this.eventId = event.id;
    this.eventType = event.type;
  }
}
