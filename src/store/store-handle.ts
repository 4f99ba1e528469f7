import type { CloudEvent } from '../events/cloud-event.ts';
import { StoreClosedError, TenantMismatchError } from './errors.ts';
import type {
  AppendHook,
  AppendOptions,
  AppendResult,
  ArchiveOptions,
  ArchiveReport,
  CountEventsOptions,
  EventStore,
  ExpectedVersion,
  OutboxSelector,
  ReadAllOptions,
  ReadAllPage,
  ReadStreamOptions,
  Snapshot,
  SnapshotInput,
  StoredEvent,
  StoreTransaction,
  StreamDeletion,
  StreamInfo,
  StreamPage,
  Subscription,
} from './event-store.ts';
import { type PreparedAppend, prepareAppend } from './prepare-append.ts';
import { createScopedOutbox, type OutboxCore } from './scoped-outbox.ts';
import {
  type AllQuery,
  type ArchiveQuery,
  allQuery,
  archiveQuery,
  checkFilter,
  checkSnapshotInput,
  checkStreamId,
  deletionExpected,
  emptyArchiveReport,
  type StreamListQuery,
  type StreamQuery,
  scoped,
  streamListQuery,
  streamQuery,
} from './store-queries.ts';
import { startSubscription, type WaitForAppends } from './subscription.ts';

export { DEFAULT_LEASE_TTL_MS, type OutboxCore } from './scoped-outbox.ts';
export {
  type AllQuery,
  type ArchiveQuery,
  DEFAULT_READ_ALL_COUNT,
  type StreamListQuery,
  type StreamQuery,
} from './store-queries.ts';

/** What an adapter implements; the handle adds validation, tenant scoping, hooks and subscriptions. */
export interface StoreCore {
  readonly name: string;
  /** Writes a checked append in one transaction, running `hook` (if any) inside it before commit. */
  append(append: PreparedAppend, hook: AppendHook | undefined): Promise<AppendResult>;
  readStream(streamId: string, query: StreamQuery): Promise<StreamPage>;
  readAll(query: AllQuery): Promise<ReadAllPage>;
  head(): Promise<string | undefined>;
  count(query: CountEventsOptions): Promise<number>;
  listStreams(query: StreamListQuery): Promise<StreamInfo[]>;
  listSnapshots(streamId: string, tenantId: string | undefined): Promise<Snapshot[]>;
  readEvent(eventId: string, tenantId: string | undefined): Promise<StoredEvent | undefined>;
  deleteStream(
    streamId: string,
    expected: ExpectedVersion,
    tenantId: string | undefined,
  ): Promise<StreamDeletion>;
  readSnapshot(streamId: string, name: string, tenantId: string | undefined): Promise<Snapshot | undefined>;
  writeSnapshot(snapshot: SnapshotInput, tenantId: string | undefined): Promise<boolean>;
  transaction<T>(work: (transaction: StoreTransaction) => Promise<T>): Promise<T>;
  outbox: OutboxCore;
  archive(query: ArchiveQuery): Promise<ArchiveReport>;
  waitForAppends: WaitForAppends;
  /** Releases the adapter's resources (subscriptions are already stopped). */
  close(): Promise<void>;
}

/** Store-wide behaviour the handle adds around the adapter. */
export interface HandleOptions {
  /** Hooks run in every append's transaction, before the append's own. */
  hooks: readonly AppendHook[];
  /** Which appended events go to the outbox; undefined: none. */
  outbox: OutboxSelector | undefined;
}

/** Names the store's side tables may take (projection tables, views): what `table()` accepts. */
export const TABLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Checks a side-table name for `StoreTransaction.table`. */
export function checkTableName(name: string): string {
  if (typeof name !== 'string' || !TABLE_NAME.test(name)) {
    throw new TypeError(
      `table name "${String(name)}" must be lower-case letters, digits and '_' (at most 63)`,
    );
  }
  return name;
}

/** The hook an append runs: the store-wide hooks, then the append's own; undefined when there are none. */
function appendHook(storeHooks: readonly AppendHook[], own: AppendHook | undefined): AppendHook | undefined {
  const hooks = own ? [...storeHooks, own] : storeHooks;
  if (hooks.length === 0) return undefined;
  return async (context) => {
    for (const run of hooks) await run(context);
  };
}

/** What every handle of one store shares: the core, the store-wide options, subscriptions, the open state. */
interface HandleState {
  core: StoreCore;
  options: HandleOptions;
  subscriptions: Set<Subscription>;
  ensureOpen(operation: string): void;
  /** The handle of another tenant (made once per tenant). */
  forTenant(tenantId: string): EventStore;
  close(): Promise<void>;
}

/** An append through a handle: the scope checked, the events prepared, the hooks combined. */
function scopedAppend(state: HandleState, scope: string | undefined): EventStore['append'] {
  const { core, options: handleOptions } = state;
  return async (streamId: string, events: readonly CloudEvent[], options: AppendOptions = {}) => {
    state.ensureOpen('append');
    if (scope !== undefined && options.tenantId !== undefined && options.tenantId !== scope) {
      throw new TenantMismatchError(
        streamId,
        scope,
        `this handle is scoped to tenant "${scope}", not "${options.tenantId}"`,
      );
    }
    const prepared = prepareAppend(
      streamId,
      events,
      scope === undefined ? options : { ...options, tenantId: scope },
      handleOptions.outbox,
    );
    return core.append(prepared, appendHook(handleOptions.hooks, options.withinTransaction));
  };
}

/** The EventStore of one scope (a tenant, or undefined for the whole store). */
function scopedHandle(state: HandleState, scope: string | undefined): EventStore {
  const { core, ensureOpen } = state;
  const readAll = async (options: ReadAllOptions = {}): Promise<ReadAllPage> => {
    ensureOpen('readAll');
    // A scoped handle reads the intersection: another tenant's events are simply not there.
    const query = scoped(allQuery(options), scope);
    if (query === undefined) return { events: [], next: options.after, hasMore: false };
    return core.readAll(query);
  };
  const headCheckpoint = async (): Promise<string | undefined> => {
    ensureOpen('headCheckpoint');
    return core.head();
  };
  const close = scope === undefined ? state.close : async () => {};
  return {
    name: core.name,
    tenantId: scope,
    append: scopedAppend(state, scope),
    async readStream(streamId: string, options: ReadStreamOptions = {}) {
      ensureOpen('readStream');
      return core.readStream(streamId, streamQuery(options, scope));
    },
    readAll,
    headCheckpoint,
    async countEvents(options: CountEventsOptions = {}) {
      ensureOpen('countEvents');
      checkFilter('countEvents', options);
      const query = scoped(options, scope);
      return query === undefined ? 0 : core.count(query);
    },
    async listStreams(options = {}) {
      ensureOpen('listStreams');
      const query = scoped(streamListQuery(options), scope);
      return query === undefined ? [] : core.listStreams(query);
    },
    async listSnapshots(streamId) {
      ensureOpen('listSnapshots');
      checkStreamId('listSnapshots', streamId);
      return core.listSnapshots(streamId, scope);
    },
    async readEvent(eventId) {
      ensureOpen('readEvent');
      if (typeof eventId !== 'string' || eventId === '') {
        throw new TypeError('readEvent: eventId must be a non-empty string');
      }
      return core.readEvent(eventId, scope);
    },
    async deleteStream(streamId, options = {}) {
      ensureOpen('deleteStream');
      checkStreamId('deleteStream', streamId);
      return core.deleteStream(streamId, deletionExpected(streamId, options.expectedVersion), scope);
    },
    async readSnapshot(streamId, name) {
      ensureOpen('readSnapshot');
      checkStreamId('readSnapshot', streamId);
      return core.readSnapshot(streamId, name, scope);
    },
    async writeSnapshot(snapshot) {
      ensureOpen('writeSnapshot');
      checkSnapshotInput(snapshot);
      return core.writeSnapshot(snapshot, scope);
    },
    async transaction(work) {
      ensureOpen('transaction');
      return core.transaction(work);
    },
    outbox: createScopedOutbox(core.outbox, scope, ensureOpen),
    async archive(options: ArchiveOptions): Promise<ArchiveReport> {
      ensureOpen('archive');
      const query = archiveQuery(options, scope);
      return query === undefined ? emptyArchiveReport(options.before) : core.archive(query);
    },
    subscribe(options) {
      ensureOpen('subscribe');
      const subscription = startSubscription(readAll, headCheckpoint, core.waitForAppends, options);
      state.subscriptions.add(subscription);
      subscription.done.then(
        () => state.subscriptions.delete(subscription),
        () => state.subscriptions.delete(subscription),
      );
      return subscription;
    },
    forTenant(other: string) {
      if (typeof other !== 'string' || other === '') {
        throw new TypeError('forTenant: tenantId must be a non-empty string');
      }
      if (scope !== undefined && other !== scope) {
        throw new TenantMismatchError(
          '*',
          scope,
          `a handle scoped to "${scope}" cannot open tenant "${other}"`,
        );
      }
      return state.forTenant(other);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Builds the EventStore a user holds around an adapter's core; `tenantId` scopes the handle. */
export function createStoreHandle(core: StoreCore, options: HandleOptions, tenantId?: string): EventStore {
  const subscriptions = new Set<Subscription>();
  const scopes = new Map<string, EventStore>();
  let closed = false;
  let closing: Promise<void> | undefined;
  const state: HandleState = {
    core,
    options,
    subscriptions,
    ensureOpen(operation) {
      if (closed) throw new StoreClosedError(operation);
    },
    forTenant(other) {
      let handle = scopes.get(other);
      if (handle === undefined) {
        handle = scopedHandle(state, other);
        scopes.set(other, handle);
      }
      return handle;
    },
    close() {
      closing ??= (async () => {
        // Subscriptions stop first so their last reads finish on an open store instead of failing.
        await Promise.allSettled([...subscriptions].map((s) => s.stop()));
        closed = true;
        await core.close();
      })();
      return closing;
    },
  };
  return scopedHandle(state, tenantId);
}
