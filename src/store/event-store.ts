import type { CloudEvent } from '../events/cloud-event.ts';

/**
 * What an append requires of the stream before it writes:
 * - `any`: no check;
 * - `no_stream`: the stream has no events yet (same as `0`);
 * - `stream_exists`: the stream has at least one event;
 * - a number n ≥ 0: the stream's version (the version of its last event) is exactly n.
 */
export type ExpectedVersion = 'any' | 'no_stream' | 'stream_exists' | number;

/** Tenant of rows appended without a tenant: single-tenant deployments never name one. */
export const DEFAULT_TENANT = 'default';

/**
 * An event as the store holds it: the CloudEvent as appended (or upcast to the current version on read
 * when the store has a catalog) plus where it sits. Kept beside the envelope, not inside it, so an
 * extension attribute can never collide with the store's fields.
 */
export interface StoredEvent<Data = unknown> {
  /** The CloudEvent. */
  event: CloudEvent<Data>;
  /** Stream the event was appended to. */
  streamId: string;
  /** Version of the event within its stream: 1 for the first event, then 2, 3, ... without gaps. */
  version: number;
  /**
   * Global position: unique in the store and increasing in append order. It may have gaps (a rolled-back
   * append burns its positions) and, on PostgreSQL, read-all order is commit-safe order rather than strictly
   * position order, so resume a read with `checkpoint`, never with `position > n`.
   */
  position: bigint;
  /** Tenant that owns the event (and its stream). */
  tenantId: string;
  /** When the store wrote the event (the append's transaction time), millisecond precision. */
  recordedAt: Date;
  /** Opaque cursor: pass it as `after` to `readAll` (or `subscribe`) to resume right after this event. */
  checkpoint: string;
}

/** SQL access to the store's database inside an append's transaction (outbox, inbox, inline projections). */
export interface StoreTransaction {
  /** SQL dialect: parameters are `$1, $2, ...` on PostgreSQL and `?` on SQLite. */
  readonly dialect: 'sqlite' | 'postgres';
  /** Runs one statement in the append's transaction; resolves with its rows (empty for statements without). */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
}

/** What an append hook sees: the events just written, and the transaction that will commit them. */
export interface AppendHookContext {
  streamId: string;
  tenantId: string;
  /** The events this append wrote, in stream order (duplicates of an earlier append are not included). */
  events: readonly StoredEvent[];
  /** Stream version once the append commits. */
  streamVersion: number;
  transaction: StoreTransaction;
}

/**
 * Work done inside an append's transaction after its events are written and before it commits, so its
 * writes commit or roll back with the events. Throwing rolls the append back and rejects it with that error.
 * Not called when nothing is written (an empty append, or a retry whose events are all stored already).
 */
export type AppendHook = (context: AppendHookContext) => void | Promise<void>;

/** How to append. */
export interface AppendOptions {
  /** Required state of the stream; default `any`. Not checked for a retry whose event ids are all stored. */
  expectedVersion?: ExpectedVersion;
  /**
   * Tenant appending. Default: the `tenantid` of the events, else the owner of an existing stream, else
   * `DEFAULT_TENANT`. Events whose `tenantid` is absent get this one; a different one is refused.
   */
  tenantId?: string;
  /** Runs in this append's transaction after the store-wide hooks (see `AppendHook`). */
  withinTransaction?: AppendHook;
}

/** What an append did. */
export interface AppendResult {
  streamId: string;
  tenantId: string;
  /**
   * Version to pass as `expectedVersion` next: the stream's version after the append. For a retry whose
   * ids were all stored already it is the version the original append reached (its last event's version).
   */
  nextExpectedVersion: number;
  /** Every event given, as stored, in the order given (an already-stored one as it was stored first). */
  events: StoredEvent[];
  /** Ids of events given that were already stored in this stream, so were not stored again. */
  duplicates: string[];
}

/** How to read one stream. */
export interface ReadStreamOptions {
  /** Default `forwards`. */
  direction?: 'forwards' | 'backwards';
  /** First version read (inclusive); default 1 forwards, the stream's last version backwards. */
  fromVersion?: number;
  /** Most events returned; default all. */
  maxCount?: number;
}

/** A page of one stream. */
export interface StreamPage {
  streamId: string;
  /** Version of the stream's last event when read; 0 when the stream has no events (or is not visible). */
  streamVersion: number;
  /** Events in the direction asked. */
  events: StoredEvent[];
  /** `fromVersion` of the next page in the same direction; undefined when this page reached the end. */
  next: number | undefined;
}

/** Which events a read-all (or subscription) returns; every given criterion must hold. */
export interface EventFilter {
  /** CloudEvents types. */
  types?: readonly string[];
  /** Owning tenant (a tenant-scoped handle always filters by its own). */
  tenantId?: string;
  /** The `correlationid` extension. */
  correlationId?: string;
  /** Streams whose id starts with this text (exact prefix, no wildcards). */
  streamPrefix?: string;
  /** Recorded at or after this time. */
  since?: Date;
  /** Recorded before this time. */
  until?: Date;
  /** Global position at or above this one. */
  fromPosition?: bigint;
}

/** How to read all events. */
export interface ReadAllOptions extends EventFilter {
  /** Checkpoint of the last event already read (from a `StoredEvent` or a page's `next`); default the start. */
  after?: string;
  /** Most events returned; default 1000. */
  maxCount?: number;
}

/** A page of all events, in the store's global order. */
export interface ReadAllPage {
  events: StoredEvent[];
  /** Pass as `after` for the next page: the last event's checkpoint, or `after` itself when the page is empty. */
  next: string | undefined;
  /** True when the page is full, so more events may already be readable. */
  hasMore: boolean;
}

/** How to follow the store from a checkpoint. */
export interface SubscribeOptions extends EventFilter {
  /** Resume right after this checkpoint; default the start. */
  after?: string;
  /** Called for each event in global order; the next one waits for it. Throwing stops the subscription. */
  handler: (event: StoredEvent) => void | Promise<void>;
  /** Most events read per query; default 500. */
  batchSize?: number;
  /** Milliseconds between reads once caught up; default 100. */
  pollIntervalMs?: number;
}

/** A running catch-up subscription. */
export interface Subscription {
  /** Checkpoint of the last event handled; undefined before the first. */
  readonly checkpoint: string | undefined;
  /** Resolves when the subscription stops: after `stop()`, or rejects with the handler's or a read's error. */
  readonly done: Promise<void>;
  /** Stops after the event being handled (if any); resolves when stopped. */
  stop(): Promise<void>;
}

/**
 * The EventStore port: streams with optimistic concurrency, a global order that readers follow without
 * ever skipping an event that commits late, tenant-scoped handles and append hooks that share the append's
 * transaction. Every adapter passes `src/store/contract`.
 */
export interface EventStore {
  /** Adapter name: `sqlite` or `postgres`. */
  readonly name: string;
  /** Tenant this handle is scoped to; undefined for the whole store. */
  readonly tenantId: string | undefined;
  /**
   * Appends events to a stream, all or none, after checking `expectedVersion`. Ids already stored in this
   * stream are not stored again (reported in `duplicates`); an id stored in another stream is refused.
   * Throws WrongExpectedVersionError, TenantMismatchError, DuplicateEventIdError or InvalidAppendError.
   */
  append(streamId: string, events: readonly CloudEvent[], options?: AppendOptions): Promise<AppendResult>;
  /** Reads a stream forwards or backwards from a version. */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<StreamPage>;
  /** Reads events in global order after a checkpoint, filtered; never returns an event behind one it returned. */
  readAll(options?: ReadAllOptions): Promise<ReadAllPage>;
  /** Follows `readAll` from a checkpoint, calling the handler for each event, until stopped. */
  subscribe(options: SubscribeOptions): Subscription;
  /**
   * A handle scoped to one tenant: it appends as that tenant (refusing streams owned by another) and reads
   * only that tenant's events. It shares this store's connections: closing it closes nothing.
   */
  forTenant(tenantId: string): EventStore;
  /** Stops subscriptions and releases connections; does nothing on a tenant handle (the store owns them). */
  close(): Promise<void>;
  /** Same as `close`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}
