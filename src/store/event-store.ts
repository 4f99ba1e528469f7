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

/** SQL access to the store's database inside one of its transactions (an append's, or `store.transaction`'s). */
export interface StoreTransaction {
  /** SQL dialect: parameters are `$1, $2, ...` on PostgreSQL and `?` (or numbered `?1, ?2, ...`) on SQLite. */
  readonly dialect: 'sqlite' | 'postgres';
  /** Runs one statement in the transaction; resolves with its rows (empty for statements without). */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /**
   * `name` as a quoted table name beside the store's own tables: in the store's schema on PostgreSQL
   * (`"keel"."name"`), in the store's file on SQLite (`"name"`). Names are lower-case letters, digits, `_`.
   */
  table(name: string): string;
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
  /** First version read (inclusive); default 1 forwards (or after the snapshot), the last version backwards. */
  fromVersion?: number;
  /** Most events returned; default all. */
  maxCount?: number;
  /**
   * Forwards without `fromVersion` only: also read the stream's latest snapshot of this aggregate type at
   * this state version, and start after it (one round trip: the aggregate load). Others are ignored.
   */
  snapshot?: { name: string; stateVersion: number };
}

/** A snapshot: an aggregate's state folded from its stream up to a version, stored to shorten loads. */
export interface Snapshot<State = unknown> {
  streamId: string;
  /** Aggregate type the state belongs to (a stream may have snapshots of several). */
  name: string;
  /** Version of the stream's last event folded into the state. */
  streamVersion: number;
  /** Version of the state's shape (the aggregate's `snapshot.version`); a load ignores any other. */
  stateVersion: number;
  /** The state, as JSON. */
  state: State;
  /** Tenant owning the stream, hence the snapshot. */
  tenantId: string;
  /** When it was written. */
  createdAt: Date;
}

/** A snapshot to write. */
export type SnapshotInput<State = unknown> = Pick<
  Snapshot<State>,
  'streamId' | 'name' | 'streamVersion' | 'stateVersion' | 'state'
>;

/** How to delete (tombstone) a stream. */
export interface DeleteStreamOptions {
  /** Required state of the stream; default `stream_exists`. */
  expectedVersion?: ExpectedVersion;
}

/** A stream's tombstone. */
export interface StreamDeletion {
  streamId: string;
  /** Stream version when it was deleted: a re-created stream continues after it. */
  version: number;
  deletedAt: Date;
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
  /** The snapshot the page starts after, when `snapshot` was asked and a matching one exists. */
  snapshot?: Snapshot;
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

/** A range of the global order: after one checkpoint, up to another. */
export interface CheckpointRange {
  /** Checkpoint of the last event already read (from a `StoredEvent` or a page's `next`); default the start. */
  after?: string;
  /** Read nothing past this checkpoint (inclusive), e.g. a `headCheckpoint()` taken earlier: a bounded read. */
  endAt?: string;
}

/** How to read all events. */
export interface ReadAllOptions extends EventFilter, CheckpointRange {
  /** Most events returned; default 1000. */
  maxCount?: number;
}

/** A page of all events, in the store's global order. */
export interface ReadAllPage {
  events: StoredEvent[];
  /**
   * Pass as `after` for the next page. The last event's checkpoint when the page is full; otherwise how
   * far the read looked, which may lie past the last event (a filter skipped the rest), or `after` itself.
   */
  next: string | undefined;
  /** True when the page is full, so more events may already be readable. */
  hasMore: boolean;
}

/** How a subscription waits after a read fails (the server restarting, a dropped connection, ...). */
export interface SubscriptionRetryOptions {
  /** Milliseconds before the first retry; later waits grow exponentially with jitter; default 100. */
  initialDelayMs?: number;
  /** Longest wait between retries, in milliseconds; default 5 000. */
  maxDelayMs?: number;
  /** Failed reads in a row before the subscription gives up and rejects `done`; default unlimited. */
  maxAttempts?: number;
}

/** How to follow the store from a checkpoint. */
export interface SubscribeOptions extends EventFilter {
  /** Resume right after this checkpoint; default per `startFrom`. */
  after?: string;
  /**
   * Without `after`: `earliest` (default) reads from the first event; `latest` only events committed
   * after the subscription starts (plus, on PostgreSQL, any whose transaction was still running then).
   */
  startFrom?: 'earliest' | 'latest';
  /** Called for each event in global order; the next one waits for it. Throwing stops the subscription. */
  handler: (event: StoredEvent) => void | Promise<void>;
  /** Most events read per query; default 500. */
  batchSize?: number;
  /** Milliseconds between reads once caught up; default 100. */
  pollIntervalMs?: number;
  /** Retries of failed reads (handler errors are never retried: they stop the subscription). */
  retry?: SubscriptionRetryOptions;
  /** Told of each failed read before the retry wait (for logging); `attempt` counts failures in a row from 1. */
  onReadError?: (error: unknown, attempt: number) => void;
}

/** A running catch-up subscription. */
export interface Subscription {
  /**
   * Where it would resume: the checkpoint of the last event handled, or further when a filter skipped
   * the events after it; undefined before anything was read.
   */
  readonly checkpoint: string | undefined;
  /** Resolves when the subscription stops: after `stop()`, or rejects with the handler's error (or a read's, once retries ran out). */
  readonly done: Promise<void>;
  /** Stops after the event being handled (if any); resolves when stopped. */
  stop(): Promise<void>;
}

/** Which streams `listStreams` returns, in stream id order; every given criterion must hold. */
export interface ListStreamsOptions {
  /** Owning tenant (a tenant-scoped handle always lists only its own). */
  tenantId?: string;
  /** Streams whose id starts with this text (exact prefix, no wildcards). */
  streamPrefix?: string;
  /** Streams holding at least one event of one of these CloudEvents types. */
  types?: readonly string[];
  /** Stream ids after this one (the last id of the previous page). */
  after?: string;
  /** Most streams returned; default 100. */
  maxCount?: number;
  /** Include deleted (tombstoned) streams; default false. */
  includeDeleted?: boolean;
}

/** A stream as `listStreams` shows it. */
export interface StreamInfo {
  streamId: string;
  tenantId: string;
  /** Version of its last event. */
  version: number;
  /** When its first event was stored. */
  createdAt: Date;
  /** When its last append (or deletion) was stored. */
  updatedAt: Date;
  /** When it was deleted; undefined for a live stream. */
  deletedAt: Date | undefined;
}

/** Which events `countEvents` counts. */
export interface CountEventsOptions extends EventFilter, CheckpointRange {}

/** What the outbox holds for one appended event, until a relay publishes it. */
export interface OutboxEntry {
  /** Outbox row id: increasing in append order (so in version order within a stream). */
  id: bigint;
  /** The event as appended. */
  event: CloudEvent;
  streamId: string;
  /** Version of the event in its stream. */
  version: number;
  /** Its global position. */
  position: bigint;
  tenantId: string;
  /** Topic chosen at append time by the store's `outbox` selector; undefined leaves it to the relay. */
  topic: string | undefined;
}

/** Decides at append time whether an event goes to the outbox: false skips it, true or a topic name keeps it. */
export type OutboxSelector = (event: CloudEvent, streamId: string) => boolean | string;

/** Leadership among outbox relays: at most one holder at a time across processes. */
export interface OutboxLease {
  /**
   * Takes the lease, or confirms it is still held; false while another holder has it. PostgreSQL: a
   * session advisory lock on a connection of its own (released when that connection dies); SQLite: a
   * lease row renewed by each call, free for others `ttlMs` after the last one.
   */
  acquire(): Promise<boolean>;
  /** Gives the lease up (does nothing when not held). */
  release(): Promise<void>;
}

/** The outbox an append fills when the store has `outbox` on; what relays read and mark. */
export interface StoreOutbox {
  /** Oldest entries not yet marked sent, at most `maxCount` (default 500), in id order. */
  pending(maxCount?: number): Promise<OutboxEntry[]>;
  /** Marks entries sent; resolves with how many were still pending. */
  markSent(ids: readonly bigint[]): Promise<number>;
  /** Entries not yet marked sent. */
  pendingCount(): Promise<number>;
  /** A lease named `name` (one active relay per name); `ttlMs` (SQLite) defaults to 5 000 ms. */
  lease(name: string, options?: { ttlMs?: number }): OutboxLease;
}

/** How to archive old events. */
export interface ArchiveOptions {
  /** Events recorded before this time are archived. */
  before: Date;
  /** Only this tenant's events (a tenant-scoped handle always archives only its own). */
  tenantId?: string;
  /** Only streams whose id starts with this text. */
  streamPrefix?: string;
  /** Events removed per transaction; default 1000. */
  batchSize?: number;
  /**
   * Receives each batch as NDJSON lines (one stored event per line, as written: see `ArchivedEvent`)
   * inside the transaction that removes them; the rows are removed only once it resolves, so a
   * failure (or crash) leaves them in place. Make it durable (fsync) before resolving.
   */
  write(lines: string): Promise<void>;
}

/** One line of an archive file. */
export interface ArchivedEvent {
  /** Global position, as decimal text. */
  position: string;
  streamId: string;
  version: number;
  tenantId: string;
  /** ISO time the store recorded it. */
  recordedAt: string;
  /** The CloudEvent in the structured JSON format, exactly as stored (not upcast). */
  event: Record<string, unknown>;
}

/** What an archive run did: `exported` always equals `removed` (checked per batch). */
export interface ArchiveReport {
  before: Date;
  /** Events written to the archive. */
  exported: number;
  /** Events removed from the hot table. */
  removed: number;
  /** Lowest and highest global positions archived; undefined when nothing was. */
  firstPosition: bigint | undefined;
  lastPosition: bigint | undefined;
  /** Batches (transactions) it took. */
  batches: number;
}

/**
 * The EventStore port: streams with optimistic concurrency, a global order that readers follow without
 * ever skipping an event that commits late, tenant-scoped handles, append hooks and an outbox that share
 * the append's transaction, snapshots, tombstones and archiving. Every adapter passes `src/store/contract`.
 */
export interface EventStore {
  /** Adapter name: `sqlite` or `postgres`. */
  readonly name: string;
  /** Tenant this handle is scoped to; undefined for the whole store. */
  readonly tenantId: string | undefined;
  /**
   * Appends events to a stream, all or none, after checking `expectedVersion`. Ids already stored in this
   * stream are not stored again (reported in `duplicates`); an id stored in another stream is refused.
   * Throws WrongExpectedVersionError, TenantMismatchError, DuplicateEventIdError, StreamDeletedError or
   * InvalidAppendError.
   */
  append(streamId: string, events: readonly CloudEvent[], options?: AppendOptions): Promise<AppendResult>;
  /** Reads a stream forwards or backwards from a version; throws StreamDeletedError for a deleted stream. */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<StreamPage>;
  /** Reads events in global order after a checkpoint, filtered; never returns an event behind one it returned. */
  readAll(options?: ReadAllOptions): Promise<ReadAllPage>;
  /** Follows `readAll` from a checkpoint, calling the handler for each event, until stopped; read errors are retried. */
  subscribe(options: SubscribeOptions): Subscription;
  /**
   * Checkpoint of the last event readers can read now (undefined when there is none): `after` it, a
   * reader sees only later events; as `endAt`, it bounds a read to what exists now.
   */
  headCheckpoint(): Promise<string | undefined>;
  /** Streams with at least one event, in stream id order, filtered by tenant, prefix and event types. */
  listStreams(options?: ListStreamsOptions): Promise<StreamInfo[]>;
  /** Every snapshot of a visible stream (one per aggregate type), by name; empty when none. */
  listSnapshots(streamId: string): Promise<Snapshot[]>;
  /** The stored event with this CloudEvents id (visible to this handle's tenant); undefined when none. */
  readEvent(eventId: string): Promise<StoredEvent | undefined>;
  /** Counts the events a `readAll` with these options would return across all its pages. */
  countEvents(options?: CountEventsOptions): Promise<number>;
  /**
   * Soft-deletes (tombstones) a stream: its events stay in the global order (audit, replay, archive), but
   * `readStream` throws StreamDeletedError and appends are refused, except one with `expectedVersion:
   * 'no_stream'`, which re-creates the stream: versions continue after the deleted ones, which stay hidden.
   * Its snapshots are removed. Deleting a deleted stream returns the existing tombstone.
   */
  deleteStream(streamId: string, options?: DeleteStreamOptions): Promise<StreamDeletion>;
  /** The latest snapshot of `name` for a stream, whatever its state version; undefined when none. */
  readSnapshot(streamId: string, name: string): Promise<Snapshot | undefined>;
  /**
   * Stores a snapshot, replacing the stream's snapshot of that name unless the stored one is newer.
   * Resolves false when nothing was written (the stream has not reached that version, is deleted or is
   * another tenant's, or a newer snapshot is stored).
   */
  writeSnapshot(snapshot: SnapshotInput): Promise<boolean>;
  /**
   * Runs `work` in one transaction on the store's database (projections, checkpoints); a throw rolls
   * back. `work` uses only the transaction given: calling the store from inside waits for this very
   * transaction on SQLite, where the store runs one operation at a time.
   */
  transaction<T>(work: (transaction: StoreTransaction) => Promise<T>): Promise<T>;
  /** The transactional outbox (empty unless the store was opened with `outbox`). */
  readonly outbox: StoreOutbox;
  /**
   * Moves events recorded before a date out of the hot table: each batch is handed to `write` and
   * removed in the same transaction. Streams keep their versions (appends continue after them).
   */
  archive(options: ArchiveOptions): Promise<ArchiveReport>;
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
