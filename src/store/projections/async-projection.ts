import { ExponentialBackoff, type IBackoff } from 'cockatiel';
import type { Logger } from 'pino';
import { ProjectionScopeError } from '../errors.ts';
import type { EventStore, ReadAllPage, StoreTransaction, SubscriptionRetryOptions } from '../event-store.ts';
import {
  DEFAULT_RETRY_INITIAL_DELAY_MS,
  DEFAULT_RETRY_MAX_DELAY_MS,
  isRetryableReadError,
  sleepUnlessAborted,
} from '../subscription.ts';
import { type ProjectionDefinition, projectionTable, tableExists } from './projection.ts';
import {
  advanceCheckpoint,
  advanceRebuildCheckpoint,
  dropTable,
  ensureProjectionState,
  lockProjection,
  pointView,
  promoteRebuild,
  readProjectionState,
  startRebuild,
} from './sql/checkpoints.ts';

/** How to run an async projection. */
export interface AsyncProjectionOptions {
  /** The store (or a tenant's handle: the projection then reads only that tenant's events). */
  store: EventStore;
  projection: ProjectionDefinition;
  /** Most events read and applied per transaction; default 500. */
  batchSize?: number;
  /** Milliseconds between reads once caught up; default 100. */
  pollIntervalMs?: number;
  /** Retries of failed reads and failed batches (a failed batch rolls back, checkpoint included). */
  retry?: SubscriptionRetryOptions;
  /** Told of failures that are retried. */
  logger?: Logger;
}

/** How far a rebuild is: events applied to the shadow table, of those that matched when it started. */
export interface RebuildProgress {
  processed: number;
  /** Matching events counted at the start, raised to `processed` if appends outgrew it. */
  total: number;
}

/** How to rebuild. */
export interface RebuildOptions {
  /** Called after every batch (and once at the start with 0). */
  onProgress?(progress: RebuildProgress): void;
}

/** What a rebuild did. */
export interface RebuildReport {
  /** Generation of the table readers now read. */
  generation: number;
  processed: number;
  total: number;
  /** Wall time, in milliseconds. */
  durationMs: number;
}

/** A running async projection. */
export interface AsyncProjection {
  readonly name: string;
  /** Generation of the live table (`<name>__g<generation>`) the view `<name>` reads. */
  readonly generation: number;
  /** Checkpoint the live table is up to (undefined before the first event). */
  readonly checkpoint: string | undefined;
  /** Creates the table, the view and the checkpoint row when missing, then follows the store in the background. */
  start(): Promise<void>;
  /** Resolves once every event readable when it was called has been applied (the loop must be running). */
  caughtUp(): Promise<void>;
  /**
   * Rebuilds from the first event into a shadow table while the live table keeps serving (and being
   * kept up to date), then swaps the view to it in one transaction and drops the old table. Readers
   * read the old table until the swap commits. Works with or without the live loop running here.
   */
  rebuild(options?: RebuildOptions): Promise<RebuildReport>;
  /** Resolves when the loop stops: after `stop()`, or rejects when it gave up after `retry.maxAttempts`. */
  readonly done: Promise<void>;
  /** Stops after the batch in flight. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The physical table of a projection's generation. */
export const generationTable = (name: string, generation: number): string => `${name}__g${generation}`;

/** Thrown inside a batch's transaction when its checkpoint moved under it: the batch rolls back and reloads. */
class CheckpointMoved extends Error {}

/**
 * An async projection: a catch-up loop over `readAll` whose every batch is applied in one transaction
 * together with the move of its checkpoint in `store_projections`, so the table and its checkpoint never
 * disagree (a crash loses nothing and applies nothing twice). The checkpoint moves only if it still
 * holds the value this runner read, so two runners of one projection never apply a batch twice.
 * Readers query the view named after the projection; the table behind it changes only on a rebuild.
 */
export function createAsyncProjection(options: AsyncProjectionOptions): AsyncProjection {
  const { store, projection } = options;
  const { name } = projection;
  const batchSize = options.batchSize ?? 500;
  const pollIntervalMs = options.pollIntervalMs ?? 100;
  const scope = store.tenantId ?? '*';
  const maxAttempts = options.retry?.maxAttempts ?? Number.POSITIVE_INFINITY;
  const backoff = new ExponentialBackoff({
    initialDelay: options.retry?.initialDelayMs ?? DEFAULT_RETRY_INITIAL_DELAY_MS,
    maxDelay: options.retry?.maxDelayMs ?? DEFAULT_RETRY_MAX_DELAY_MS,
  });
  const stopping = new AbortController();
  let generation = 1;
  let checkpoint: string | null = null;
  let running: Promise<void> | undefined;
  let started = false;
  // caughtUp() waiters: resolved by the first read that starts after they registered and finds no more.
  let readsStarted = 0;
  const waiters: { after: number; resolve(): void }[] = [];

  const read = (after: string | null): Promise<ReadAllPage> =>
    store.readAll({ types: projection.types, after: after ?? undefined, maxCount: batchSize });

  const withRetries = async <T>(what: string, work: () => Promise<T>): Promise<T | undefined> => {
    let delay: IBackoff<unknown> | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        if (stopping.signal.aborted) return undefined;
        if (!isRetryableReadError(error) || attempt >= maxAttempts) throw error;
        options.logger?.warn(
          { err: error, projection: name, attempt },
          `projection ${what} failed; retrying`,
        );
        delay = delay === undefined ? backoff.next() : delay.next(undefined);
        await sleepUnlessAborted(delay.duration, stopping.signal);
        if (stopping.signal.aborted) return undefined;
      }
    }
  };

  const setUp = async (
    transaction: StoreTransaction,
  ): Promise<{ generation: number; checkpoint: string | null }> => {
    await lockProjection(transaction, name);
    const state = await ensureProjectionState(transaction, name, scope);
    if (state.scope !== scope) throw new ProjectionScopeError(name, state.scope, scope);
    const table = projectionTable(transaction, generationTable(name, state.generation));
    if (!(await tableExists(transaction, table))) {
      for (const statement of projection.createTable(table)) await transaction.query(statement);
    }
    const view = projectionTable(transaction, name);
    if (!(await tableExists(transaction, view))) await pointView(transaction, view.name, table.name);
    return { generation: state.generation, checkpoint: state.checkpoint };
  };

  const reload = async (): Promise<void> => {
    const state = await store.transaction((transaction) => readProjectionState(transaction, name));
    if (state !== undefined) {
      generation = state.generation;
      checkpoint = state.checkpoint;
    }
  };

  /** Applies one page to the live table with its checkpoint; false when the checkpoint moved meanwhile. */
  const applyLive = (page: ReadAllPage, from: string | null, at: number): Promise<boolean> =>
    store
      .transaction(async (transaction) => {
        if (!(await advanceCheckpoint(transaction, name, at, from, page.next ?? null)))
          throw new CheckpointMoved();
        if (page.events.length > 0) {
          await projection.apply(page.events, {
            transaction,
            table: projectionTable(transaction, generationTable(name, at)),
          });
        }
        return true;
      })
      .catch((error: unknown) => {
        if (error instanceof CheckpointMoved) return false;
        throw error;
      });

  const loop = async (): Promise<void> => {
    while (!stopping.signal.aborted) {
      const readNumber = ++readsStarted;
      const from = checkpoint;
      const at = generation;
      const page = await withRetries('read', () => read(from));
      if (page === undefined) return;
      if (page.events.length > 0 || (page.next ?? null) !== from) {
        const applied = await withRetries('batch', () => applyLive(page, from, at));
        if (applied === undefined) return;
        if (!applied) {
          // Another runner moved on, or a rebuild swapped tables: continue from what the row says.
          await withRetries('reload', reload);
          continue;
        }
        checkpoint = page.next ?? null;
      }
      if (!page.hasMore) {
        for (let i = waiters.length - 1; i >= 0; i--) {
          if (waiters[i]!.after < readNumber) {
            waiters[i]!.resolve();
            waiters.splice(i, 1);
          }
        }
        await sleepUnlessAborted(pollIntervalMs, stopping.signal);
      }
    }
  };

  let done: Promise<void> = Promise.resolve();

  const rebuild = async (rebuildOptions: RebuildOptions = {}): Promise<RebuildReport> => {
    const startedAt = performance.now();
    const { rebuildGeneration, oldGeneration } = await store.transaction(async (transaction) => {
      await setUp(transaction);
      const state = (await readProjectionState(transaction, name))!;
      // An abandoned rebuild's shadow is dropped: this one starts from the first event again.
      if (state.rebuildGeneration !== null) {
        await dropTable(transaction, transaction.table(generationTable(name, state.rebuildGeneration)));
      }
      const next = Math.max(state.generation, state.rebuildGeneration ?? 0) + 1;
      await startRebuild(transaction, name, next);
      const shadow = projectionTable(transaction, generationTable(name, next));
      await dropTable(transaction, shadow.name);
      for (const statement of projection.createTable(shadow)) await transaction.query(statement);
      return { rebuildGeneration: next, oldGeneration: state.generation };
    });
    const head = await store.headCheckpoint();
    let total = head === undefined ? 0 : await store.countEvents({ types: projection.types, endAt: head });
    let processed = 0;
    let at: string | null = null;
    rebuildOptions.onProgress?.({ processed, total });
    for (;;) {
      const page = await read(at);
      const from: string | null = at;
      if (page.events.length > 0 || (page.next ?? null) !== from) {
        await store.transaction(async (transaction) => {
          if (
            !(await advanceRebuildCheckpoint(transaction, name, rebuildGeneration, from, page.next ?? null))
          ) {
            throw new Error(
              `projection "${name}": another rebuild took over generation ${rebuildGeneration}`,
            );
          }
          if (page.events.length > 0) {
            await projection.apply(page.events, {
              transaction,
              table: projectionTable(transaction, generationTable(name, rebuildGeneration)),
            });
          }
        });
        at = page.next ?? null;
        processed += page.events.length;
        total = Math.max(total, processed);
        rebuildOptions.onProgress?.({ processed, total });
      }
      if (!page.hasMore) break;
    }
    // The swap: events appended since the last read are left to the live loop, which resumes from the
    // promoted checkpoint on the new table; the old table goes with the view's move, in one transaction.
    await store.transaction(async (transaction) => {
      await lockProjection(transaction, name);
      if (!(await promoteRebuild(transaction, name, rebuildGeneration, at))) {
        throw new Error(`projection "${name}": another rebuild took over generation ${rebuildGeneration}`);
      }
      const view = projectionTable(transaction, name);
      await pointView(transaction, view.name, transaction.table(generationTable(name, rebuildGeneration)));
      await dropTable(transaction, transaction.table(generationTable(name, oldGeneration)));
    });
    if (!started) {
      generation = rebuildGeneration;
      checkpoint = at;
    }
    return { generation: rebuildGeneration, processed, total, durationMs: performance.now() - startedAt };
  };

  const projectionHandle: AsyncProjection = {
    name,
    get generation() {
      return generation;
    },
    get checkpoint() {
      return checkpoint ?? undefined;
    },
    get done() {
      return done;
    },
    async start() {
      if (started) return;
      ({ generation, checkpoint } = await store.transaction(setUp));
      started = true;
      running = loop();
      done = running;
      running.catch((error: unknown) => {
        options.logger?.error({ err: error, projection: name }, 'projection stopped');
        for (const waiter of waiters.splice(0)) waiter.resolve();
      });
    },
    caughtUp() {
      if (!started || stopping.signal.aborted)
        return Promise.reject(new Error(`projection "${name}" is not running`));
      return new Promise<void>((resolve) => waiters.push({ after: readsStarted, resolve }));
    },
    rebuild,
    async stop() {
      stopping.abort();
      await running?.catch(() => {});
      for (const waiter of waiters.splice(0)) waiter.resolve();
    },
    async [Symbol.asyncDispose]() {
      await projectionHandle.stop();
    },
  };
  return projectionHandle;
}
