import type { CloudEvent } from '../events/cloud-event.ts';
import { InvalidAppendError, StoreClosedError, TenantMismatchError } from './errors.ts';
import type {
  AppendHook,
  AppendOptions,
  AppendResult,
  ArchiveOptions,
  ArchiveReport,
  CountEventsOptions,
  EventFilter,
  EventStore,
  ExpectedVersion,
  OutboxEntry,
  OutboxLease,
  OutboxSelector,
  ReadAllOptions,
  ReadAllPage,
  ReadStreamOptions,
  Snapshot,
  SnapshotInput,
  StoreOutbox,
  StoreTransaction,
  StreamDeletion,
  StreamPage,
  Subscription,
} from './event-store.ts';
import { isExpectedVersion } from './expected-version.ts';
import { type PreparedAppend, prepareAppend } from './prepare-append.ts';
import { startSubscription, type WaitForAppends } from './subscription.ts';

/** Read-stream options with their defaults applied and checked. */
export interface StreamQuery {
  direction: 'forwards' | 'backwards';
  /** First version read; undefined backwards means the stream's last version. */
  fromVersion: number | undefined;
  /** Most events; undefined is all. */
  maxCount: number | undefined;
  /** Only a stream owned by this tenant is visible; undefined sees every stream. */
  tenantId: string | undefined;
  /** Forwards from the snapshot: read it too and start after it. */
  snapshot: { name: string; stateVersion: number } | undefined;
}

/** Read-all options with defaults applied and checked. */
export interface AllQuery extends Omit<ReadAllOptions, 'maxCount'> {
  maxCount: number;
}

/** Archive options with the tenant scope applied. */
export type ArchiveQuery = ArchiveOptions & { batchSize: number };

/** The outbox as an adapter implements it; `tenantId` scopes reads to one tenant's entries. */
export interface OutboxCore {
  pending(maxCount: number, tenantId: string | undefined): Promise<OutboxEntry[]>;
  markSent(ids: readonly bigint[], tenantId: string | undefined): Promise<number>;
  pendingCount(tenantId: string | undefined): Promise<number>;
  lease(name: string, ttlMs: number): OutboxLease;
}

/** What an adapter implements; the handle adds validation, tenant scoping, hooks and subscriptions. */
export interface StoreCore {
  readonly name: string;
  /** Writes a checked append in one transaction, running `hook` (if any) inside it before commit. */
  append(append: PreparedAppend, hook: AppendHook | undefined): Promise<AppendResult>;
  readStream(streamId: string, query: StreamQuery): Promise<StreamPage>;
  readAll(query: AllQuery): Promise<ReadAllPage>;
  head(): Promise<string | undefined>;
  count(query: CountEventsOptions): Promise<number>;
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

/** Default lease time of an outbox lease on SQLite, in milliseconds. */
export const DEFAULT_LEASE_TTL_MS = 5_000;

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

/** Default page size of `readAll`. */
export const DEFAULT_READ_ALL_COUNT = 1000;

const positiveCount = (what: string, value: number | undefined): number | undefined => {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
    throw new TypeError(`${what}: maxCount must be an integer ≥ 0, got ${value}`);
  }
  return value;
};

function streamQuery(options: ReadStreamOptions, tenantId: string | undefined): StreamQuery {
  const direction = options.direction ?? 'forwards';
  if (direction !== 'forwards' && direction !== 'backwards') {
    throw new TypeError(`readStream: direction must be 'forwards' or 'backwards', got ${String(direction)}`);
  }
  const { fromVersion } = options;
  if (fromVersion !== undefined && (!Number.isSafeInteger(fromVersion) || fromVersion < 0)) {
    throw new TypeError(`readStream: fromVersion must be an integer ≥ 0, got ${fromVersion}`);
  }
  const { snapshot } = options;
  if (
    snapshot !== undefined &&
    (typeof snapshot.name !== 'string' ||
      snapshot.name === '' ||
      !Number.isSafeInteger(snapshot.stateVersion))
  ) {
    throw new TypeError('readStream: snapshot needs a name and an integer stateVersion');
  }
  const withSnapshot = snapshot !== undefined && direction === 'forwards' && fromVersion === undefined;
  return {
    direction,
    fromVersion,
    maxCount: positiveCount('readStream', options.maxCount),
    tenantId,
    snapshot: withSnapshot ? snapshot : undefined,
  };
}

function checkFilter(operation: string, options: EventFilter): void {
  for (const key of ['since', 'until'] as const) {
    const value = options[key];
    if (value !== undefined && (!(value instanceof Date) || Number.isNaN(value.getTime()))) {
      throw new TypeError(`${operation}: ${key} must be a valid Date`);
    }
  }
  if (options.types !== undefined && !Array.isArray(options.types)) {
    throw new TypeError(`${operation}: types must be an array of event types`);
  }
  if (options.fromPosition !== undefined && typeof options.fromPosition !== 'bigint') {
    throw new TypeError(`${operation}: fromPosition must be a bigint`);
  }
}

function allQuery(options: ReadAllOptions): AllQuery {
  const maxCount = positiveCount('readAll', options.maxCount) ?? DEFAULT_READ_ALL_COUNT;
  checkFilter('readAll', options);
  return { ...options, maxCount };
}

/** Applies a handle's tenant scope to a filter; undefined when the filter names another tenant (nothing matches). */
function scoped<F extends EventFilter>(filter: F, scope: string | undefined): F | undefined {
  if (scope === undefined) return filter;
  if (filter.tenantId !== undefined && filter.tenantId !== scope) return undefined;
  return { ...filter, tenantId: scope };
}

function checkStreamId(operation: string, streamId: string): void {
  if (typeof streamId !== 'string' || streamId === '') {
    throw new TypeError(`${operation}: streamId must be a non-empty string`);
  }
}

/** Builds the EventStore a user holds around an adapter's core; `tenantId` scopes the handle. */
export function createStoreHandle(core: StoreCore, options: HandleOptions, tenantId?: string): EventStore {
  const storeHooks = options.hooks;
  const selectOutbox = options.outbox;
  const subscriptions = new Set<Subscription>();
  let closed = false;
  const scopes = new Map<string, EventStore>();

  const ensureOpen = (operation: string): void => {
    if (closed) throw new StoreClosedError(operation);
  };

  const handle = (scope: string | undefined): EventStore => {
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
    const outbox: StoreOutbox = {
      async pending(maxCount = 500) {
        ensureOpen('outbox.pending');
        if (!Number.isSafeInteger(maxCount) || maxCount < 1) {
          throw new TypeError(`outbox.pending: maxCount must be an integer ≥ 1, got ${maxCount}`);
        }
        return core.outbox.pending(maxCount, scope);
      },
      async markSent(ids) {
        ensureOpen('outbox.markSent');
        return ids.length === 0 ? 0 : core.outbox.markSent(ids, scope);
      },
      async pendingCount() {
        ensureOpen('outbox.pendingCount');
        return core.outbox.pendingCount(scope);
      },
      lease(name, leaseOptions = {}) {
        ensureOpen('outbox.lease');
        if (typeof name !== 'string' || name === '')
          throw new TypeError('outbox.lease: name must be a non-empty string');
        const ttlMs = leaseOptions.ttlMs ?? DEFAULT_LEASE_TTL_MS;
        if (!Number.isFinite(ttlMs) || ttlMs < 1)
          throw new TypeError(`outbox.lease: ttlMs must be ≥ 1, got ${ttlMs}`);
        return core.outbox.lease(scope === undefined ? name : `${name}@${scope}`, ttlMs);
      },
    };
    const store: EventStore = {
      name: core.name,
      tenantId: scope,
      async append(streamId: string, events: readonly CloudEvent[], options: AppendOptions = {}) {
        ensureOpen('append');
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
          selectOutbox,
        );
        const hooks = options.withinTransaction ? [...storeHooks, options.withinTransaction] : storeHooks;
        const hook: AppendHook | undefined =
          hooks.length === 0
            ? undefined
            : async (context) => {
                for (const run of hooks) await run(context);
              };
        return core.append(prepared, hook);
      },
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
      async deleteStream(streamId, options = {}) {
        ensureOpen('deleteStream');
        checkStreamId('deleteStream', streamId);
        const expected = options.expectedVersion ?? 'stream_exists';
        if (!isExpectedVersion(expected)) {
          throw new InvalidAppendError(
            streamId,
            `expectedVersion must be 'any', 'no_stream', 'stream_exists' or an integer ≥ 0`,
          );
        }
        return core.deleteStream(streamId, expected, scope);
      },
      async readSnapshot(streamId, name) {
        ensureOpen('readSnapshot');
        checkStreamId('readSnapshot', streamId);
        return core.readSnapshot(streamId, name, scope);
      },
      async writeSnapshot(snapshot) {
        ensureOpen('writeSnapshot');
        checkStreamId('writeSnapshot', snapshot.streamId);
        if (typeof snapshot.name !== 'string' || snapshot.name === '') {
          throw new TypeError('writeSnapshot: name must be a non-empty string');
        }
        for (const key of ['streamVersion', 'stateVersion'] as const) {
          if (!Number.isSafeInteger(snapshot[key]) || snapshot[key] < 0) {
            throw new TypeError(`writeSnapshot: ${key} must be an integer ≥ 0, got ${snapshot[key]}`);
          }
        }
        return core.writeSnapshot(snapshot, scope);
      },
      async transaction(work) {
        ensureOpen('transaction');
        return core.transaction(work);
      },
      outbox,
      async archive(options: ArchiveOptions): Promise<ArchiveReport> {
        ensureOpen('archive');
        if (!(options.before instanceof Date) || Number.isNaN(options.before.getTime())) {
          throw new TypeError('archive: before must be a valid Date');
        }
        if (typeof options.write !== 'function') throw new TypeError('archive: write must be a function');
        const batchSize = options.batchSize ?? 1000;
        if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
          throw new TypeError(`archive: batchSize must be an integer ≥ 1, got ${batchSize}`);
        }
        const query = scoped(options, scope);
        if (query === undefined) {
          return {
            before: options.before,
            exported: 0,
            removed: 0,
            firstPosition: undefined,
            lastPosition: undefined,
            batches: 0,
          };
        }
        return core.archive({ ...query, batchSize });
      },
      subscribe(options) {
        ensureOpen('subscribe');
        const subscription = startSubscription(readAll, headCheckpoint, core.waitForAppends, options);
        subscriptions.add(subscription);
        subscription.done.then(
          () => subscriptions.delete(subscription),
          () => subscriptions.delete(subscription),
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
        let scoped = scopes.get(other);
        if (scoped === undefined) {
          scoped = handle(other);
          scopes.set(other, scoped);
        }
        return scoped;
      },
      close: scope === undefined ? closeStore : async () => {},
      [Symbol.asyncDispose]: scope === undefined ? closeStore : async () => {},
    };
    return store;
  };

  let closing: Promise<void> | undefined;
  function closeStore(): Promise<void> {
    closing ??= (async () => {
      // Subscriptions stop first so their last reads finish on an open store instead of failing.
      await Promise.allSettled([...subscriptions].map((s) => s.stop()));
      closed = true;
      await core.close();
    })();
    return closing;
  }

  return handle(tenantId);
}
