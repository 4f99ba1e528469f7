import { KeelError } from '../errors/keel-error.ts';
import { type MigrationProblem, type SchemaComponent, SchemaError } from '../sql/schema-error.ts';
import type { ExpectedVersion } from './event-store.ts';

const describeExpected = (expected: ExpectedVersion): string =>
  typeof expected === 'number' ? `version ${expected}` : expected;

/** An append whose expected version does not match the stream; nothing was written. */
export class WrongExpectedVersionError extends KeelError {
  readonly code = 'KEEL_STORE_WRONG_EXPECTED_VERSION';
  readonly streamId: string;
  readonly expected: ExpectedVersion;
  /** The stream's version when the append was checked: 0 when it had no events. */
  readonly actual: number;

  constructor(streamId: string, expected: ExpectedVersion, actual: number) {
    super(
      `stream "${streamId}": expected ${describeExpected(expected)} but the stream is at version ${actual}${
        actual === 0 ? ' (no events)' : ''
      }; reload it and decide again`,
    );
    this.streamId = streamId;
    this.expected = expected;
    this.actual = actual;
  }
}

/** An append to a stream owned by another tenant, or with events of another tenant; nothing was written. */
export class TenantMismatchError extends KeelError {
  readonly code = 'KEEL_STORE_TENANT_MISMATCH';
  readonly streamId: string;
  /** The tenant that tried to append. */
  readonly tenantId: string;

  constructor(streamId: string, tenantId: string, reason: string) {
    // The owner is not named: a tenant must not learn who owns a stream it cannot see.
    super(`stream "${streamId}": tenant "${tenantId}" cannot append: ${reason}`);
    this.streamId = streamId;
    this.tenantId = tenantId;
  }
}

/** An event id already stored in another stream: an id names one event; nothing was written. */
export class DuplicateEventIdError extends KeelError {
  readonly code = 'KEEL_STORE_DUPLICATE_EVENT_ID';
  readonly eventId: string;
  /** The stream the append was for. */
  readonly streamId: string;

  constructor(eventId: string, streamId: string) {
    super(
      `stream "${streamId}": event id ${eventId} is already stored in another stream; give the event a new id`,
    );
    this.eventId = eventId;
    this.streamId = streamId;
  }
}

/** An append that cannot be done as asked (bad stream id, repeated id in the batch, ...); nothing was written. */
export class InvalidAppendError extends KeelError {
  readonly code = 'KEEL_STORE_INVALID_APPEND';
  readonly streamId: string;

  constructor(streamId: string, reason: string) {
    super(`append to stream "${streamId}": ${reason}`);
    this.streamId = streamId;
  }
}

/** A checkpoint this store did not make (another adapter's, or corrupted). */
export class InvalidCheckpointError extends KeelError {
  readonly code = 'KEEL_STORE_INVALID_CHECKPOINT';
  readonly checkpoint: string;
  /** Adapter that refused it. */
  readonly store: string;

  constructor(checkpoint: string, store: string) {
    super(`"${checkpoint}" is not a ${store} event store checkpoint: pass one this store returned`);
    this.checkpoint = checkpoint;
    this.store = store;
  }
}

/** An operation on a store that was closed. */
export class StoreClosedError extends KeelError {
  readonly code = 'KEEL_STORE_CLOSED';
  /** What was attempted, e.g. `append`. */
  readonly operation: string;

  constructor(operation: string) {
    super(`${operation}: the event store is closed`);
    this.operation = operation;
  }
}

/** Why the event store's schema cannot be used by this code. */
export type StoreSchemaProblem = MigrationProblem;

/** The event store's schema, as its migrations name it in SchemaError. */
export const storeSchema: SchemaComponent = { name: 'event store', code: 'KEEL_STORE_SCHEMA' };

/** A store schema this code cannot vouch for (newer, or an edited migration): the one SchemaError. */
export const StoreSchemaError = SchemaError;
/** A store schema this code cannot vouch for. */
export type StoreSchemaError = SchemaError;

/** A read of, or an append to, a stream that was deleted (tombstoned); nothing was written. */
export class StreamDeletedError extends KeelError {
  readonly code = 'KEEL_STORE_STREAM_DELETED';
  readonly streamId: string;
  /** Stream version when it was deleted. */
  readonly version: number;
  readonly deletedAt: Date;

  constructor(streamId: string, version: number, deletedAt: Date) {
    super(
      `stream "${streamId}" was deleted at version ${version} (${deletedAt.toISOString()}); append with expectedVersion 'no_stream' to re-create it`,
    );
    this.streamId = streamId;
    this.version = version;
    this.deletedAt = deletedAt;
  }
}

/** An archive batch whose removed-row count differs from what was exported; the batch was rolled back. */
export class ArchiveMismatchError extends KeelError {
  readonly code = 'KEEL_STORE_ARCHIVE_MISMATCH';
  /** Events written to the archive in the failed batch. */
  readonly exported: number;
  /** Rows the delete would have removed. */
  readonly removed: number;

  constructor(exported: number, removed: number) {
    super(
      `archive batch rolled back: ${exported} events exported but ${removed} rows matched the delete; the archive file holds the batch again on the next run`,
    );
    this.exported = exported;
    this.removed = removed;
  }
}

/** An async projection started on a store handle of another tenant scope than the one that created it. */
export class ProjectionScopeError extends KeelError {
  readonly code = 'KEEL_STORE_PROJECTION_SCOPE';
  readonly projection: string;
  /** Scope recorded for the projection: `*` (whole store) or a tenant. */
  readonly recorded: string;
  /** Scope of the handle it was started on. */
  readonly requested: string;

  constructor(projection: string, recorded: string, requested: string) {
    super(
      `projection "${projection}" reads scope "${recorded}", not "${requested}": give a tenant's projection a name of its own`,
    );
    this.projection = projection;
    this.recorded = recorded;
    this.requested = requested;
  }
}

/** A projection rebuild whose generation another rebuild took over meanwhile; this one's work is abandoned. */
export class ProjectionRebuildConflictError extends KeelError {
  readonly code = 'KEEL_STORE_PROJECTION_REBUILD_CONFLICT';
  readonly projection: string;
  /** The shadow generation this rebuild was filling. */
  readonly generation: number;

  constructor(projection: string, generation: number) {
    super(`projection "${projection}": another rebuild took over generation ${generation}`);
    this.projection = projection;
    this.generation = generation;
  }
}

/** A projection rebuild stopped by its signal: its shadow table was dropped, readers keep the live table. */
export class ProjectionRebuildAbortedError extends KeelError {
  readonly code = 'KEEL_STORE_PROJECTION_REBUILD_ABORTED';
  readonly projection: string;
  /** Events applied to the shadow table before it stopped (now dropped with it). */
  readonly processed: number;

  constructor(projection: string, processed: number) {
    super(
      `projection "${projection}": rebuild aborted after ${processed} events; the live table is unchanged`,
    );
    this.projection = projection;
    this.processed = processed;
  }
}

/** `caughtUp()` of an async projection that is not running (not started, or stopped). */
export class ProjectionNotRunningError extends KeelError {
  readonly code = 'KEEL_STORE_PROJECTION_NOT_RUNNING';
  readonly projection: string;

  constructor(projection: string) {
    super(`projection "${projection}" is not running`);
    this.projection = projection;
  }
}
