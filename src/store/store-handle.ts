import type { CloudEvent } from '../events/cloud-event.ts';
import { StoreClosedError, TenantMismatchError } from './errors.ts';
import type {
  AppendHook,
  AppendOptions,
  AppendResult,
  EventStore,
  ReadAllOptions,
  ReadAllPage,
  ReadStreamOptions,
  StreamPage,
  Subscription,
} from './event-store.ts';
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
}

/** Read-all options with defaults applied and checked. */
export interface AllQuery extends Omit<ReadAllOptions, 'maxCount'> {
  maxCount: number;
}

/** What an adapter implements; the handle adds validation, tenant scoping, hooks and subscriptions. */
export interface StoreCore {
  readonly name: string;
  /** Writes a checked append in one transaction, running `hook` (if any) inside it before commit. */
  append(append: PreparedAppend, hook: AppendHook | undefined): Promise<AppendResult>;
  readStream(streamId: string, query: StreamQuery): Promise<StreamPage>;
  readAll(query: AllQuery): Promise<ReadAllPage>;
  waitForAppends: WaitForAppends;
  /** Releases the adapter's resources (subscriptions are already stopped). */
  close(): Promise<void>;
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
  return { direction, fromVersion, maxCount: positiveCount('readStream', options.maxCount), tenantId };
}

function allQuery(options: ReadAllOptions): AllQuery {
  const maxCount = positiveCount('readAll', options.maxCount) ?? DEFAULT_READ_ALL_COUNT;
  for (const key of ['since', 'until'] as const) {
    const value = options[key];
    if (value !== undefined && (!(value instanceof Date) || Number.isNaN(value.getTime()))) {
      throw new TypeError(`readAll: ${key} must be a valid Date`);
    }
  }
  if (options.types !== undefined && !Array.isArray(options.types)) {
    throw new TypeError('readAll: types must be an array of event types');
  }
  if (options.fromPosition !== undefined && typeof options.fromPosition !== 'bigint') {
    throw new TypeError('readAll: fromPosition must be a bigint');
  }
  return { ...options, maxCount };
}

/** Builds the EventStore a user holds around an adapter's core; `tenantId` scopes the handle. */
export function createStoreHandle(
  core: StoreCore,
  storeHooks: readonly AppendHook[],
  tenantId?: string,
): EventStore {
  const subscriptions = new Set<Subscription>();
  let closed = false;
  const scopes = new Map<string, EventStore>();

  const ensureOpen = (operation: string): void => {
    if (closed) throw new StoreClosedError(operation);
  };

  const handle = (scope: string | undefined): EventStore => {
    const readAll = async (options: ReadAllOptions = {}): Promise<ReadAllPage> => {
      ensureOpen('readAll');
      const query = allQuery(options);
      if (scope !== undefined) {
        // A scoped handle reads the intersection: another tenant's events are simply not there.
        if (query.tenantId !== undefined && query.tenantId !== scope) {
          return { events: [], next: query.after, hasMore: false };
        }
        query.tenantId = scope;
      }
      return core.readAll(query);
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
      subscribe(options) {
        ensureOpen('subscribe');
        const subscription = startSubscription(readAll, core.waitForAppends, options);
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
