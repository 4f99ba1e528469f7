import type { Logger } from 'pino';
import { z } from 'zod';
import { KeelError } from '../../errors/keel-error.ts';
import { parseOptions } from '../../errors/options.ts';
import { ProjectionNotRunningError } from '../errors.ts';
import type { EventStore, ReadAllPage, SubscriptionRetryOptions } from '../event-store.ts';
import {
  DEFAULT_RETRY_INITIAL_DELAY_MS,
  DEFAULT_RETRY_MAX_DELAY_MS,
  sleepUnlessAborted,
} from '../subscription.ts';
import { type ProjectionDefinition, projectionTable } from './projection.ts';
import { createProjectionRetries, type WithRetries } from './projection-retries.ts';
import { generationTable, setUpProjection } from './projection-setup.ts';
import { type RebuildOptions, type RebuildReport, rebuildProjection } from './rebuild-projection.ts';
import { advanceCheckpoint, readProjectionState } from './sql/checkpoints.ts';

export { generationTable } from './projection-setup.ts';
export type { RebuildOptions, RebuildProgress, RebuildReport } from './rebuild-projection.ts';

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

const millis = z
  .number({ error: 'expected milliseconds ≥ 0' })
  .min(0, { error: 'expected milliseconds ≥ 0' });
// Infinity (the default: never give up) is a valid number of attempts, which z.number() refuses.
const atLeastOne = z.custom<number>((value) => typeof value === 'number' && value >= 1, {
  error: 'expected a number ≥ 1',
});

// The tuning options with their defaults; the store, the projection and the logger are passed as they are.
const asyncProjectionTuning = z.object({
  batchSize: z
    .int({ error: 'expected an integer ≥ 1' })
    .min(1, { error: 'expected an integer ≥ 1' })
    .default(500),
  pollIntervalMs: millis.default(100),
  retry: z
    .object({
      initialDelayMs: millis.default(DEFAULT_RETRY_INITIAL_DELAY_MS),
      maxDelayMs: millis.default(DEFAULT_RETRY_MAX_DELAY_MS),
      maxAttempts: atLeastOne.default(Number.POSITIVE_INFINITY),
    })
    .default({
      initialDelayMs: DEFAULT_RETRY_INITIAL_DELAY_MS,
      maxDelayMs: DEFAULT_RETRY_MAX_DELAY_MS,
      maxAttempts: Number.POSITIVE_INFINITY,
    }),
});

/** Thrown inside a batch's transaction when its checkpoint moved under it: the batch rolls back and reloads. */
class CheckpointMovedError extends KeelError {
  readonly code = 'KEEL_STORE_PROJECTION_CHECKPOINT_MOVED';
}

/** Where the live loop is: the generation it writes and the checkpoint it has applied. */
interface LiveState {
  generation: number;
  checkpoint: string | null;
}

/** What the live loop works with. */
interface LiveLoop {
  store: EventStore;
  projection: ProjectionDefinition;
  state: LiveState;
  read(after: string | null): Promise<ReadAllPage>;
  withRetries: WithRetries;
  pollIntervalMs: number;
  signal: AbortSignal;
  /** Called after every read that found no more events, with the number of that read. */
  caughtUp(readNumber: number): void;
  /** Numbers the reads; a read's number is the count when it starts. */
  nextRead(): number;
}

/** Applies one page to the live table with its checkpoint; false when the checkpoint moved meanwhile. */
function applyLive(loop: LiveLoop, page: ReadAllPage, from: string | null, at: number): Promise<boolean> {
  const { store, projection } = loop;
  return store
    .transaction(async (transaction) => {
      if (!(await advanceCheckpoint(transaction, projection.name, at, from, page.next ?? null)))
        throw new CheckpointMovedError(`projection "${projection.name}": checkpoint moved`);
      if (page.events.length > 0) {
        await projection.apply(page.events, {
          transaction,
          table: projectionTable(transaction, generationTable(projection.name, at)),
        });
      }
      return true;
    })
    .catch((error: unknown) => {
      if (error instanceof CheckpointMovedError) return false;
      throw error;
    });
}

/** Continues from what the projection's row says (another runner moved on, or a rebuild swapped tables). */
async function reload(loop: LiveLoop): Promise<void> {
  const state = await loop.store.transaction((transaction) =>
    readProjectionState(transaction, loop.projection.name),
  );
  if (state !== undefined) {
    loop.state.generation = state.generation;
    loop.state.checkpoint = state.checkpoint;
  }
}

/** The live loop: read a page after the checkpoint, apply it with the checkpoint's move, wait once caught up. */
async function runLive(loop: LiveLoop): Promise<void> {
  const { state, withRetries, signal } = loop;
  while (!signal.aborted) {
    const readNumber = loop.nextRead();
    const from = state.checkpoint;
    const at = state.generation;
    const page = await withRetries('read', () => loop.read(from));
    if (page === undefined) return;
    if (page.events.length > 0 || (page.next ?? null) !== from) {
      const applied = await withRetries('batch', () => applyLive(loop, page, from, at));
      if (applied === undefined) return;
      if (!applied) {
        await withRetries('reload', () => reload(loop));
        continue;
      }
      state.checkpoint = page.next ?? null;
    }
    if (!page.hasMore) {
      loop.caughtUp(readNumber);
      await sleepUnlessAborted(loop.pollIntervalMs, signal);
    }
  }
}

/**
 * An async projection: a catch-up loop over `readAll` whose every batch is applied in one transaction
 * together with the move of its checkpoint in `store_projections`, so the table and its checkpoint never
 * disagree (a crash loses nothing and applies nothing twice). The checkpoint moves only if it still
 * holds the value this runner read, so two runners of one projection never apply a batch twice.
 * Readers query the view named after the projection; the table behind it changes only on a rebuild.
 */
export function createAsyncProjection(options: AsyncProjectionOptions): AsyncProjection {
  const { store, projection, logger } = options;
  const tuning = parseOptions(asyncProjectionTuning, options, 'async projection');
  const { name } = projection;
  const scope = store.tenantId ?? '*';
  const stopping = new AbortController();
  const state: LiveState = { generation: 1, checkpoint: null };
  let running: Promise<void> | undefined;
  let started = false;
  let done: Promise<void> = Promise.resolve();
  // caughtUp() waiters: resolved by the first read that starts after they registered and finds no more.
  let readsStarted = 0;
  const waiters: { after: number; resolve(): void }[] = [];
  const read = (after: string | null): Promise<ReadAllPage> =>
    store.readAll({ types: projection.types, after: after ?? undefined, maxCount: tuning.batchSize });
  const loop: LiveLoop = {
    store,
    projection,
    state,
    read,
    withRetries: createProjectionRetries({
      projection: name,
      ...tuning.retry,
      logger,
      signal: stopping.signal,
    }),
    pollIntervalMs: tuning.pollIntervalMs,
    signal: stopping.signal,
    nextRead: () => ++readsStarted,
    caughtUp(readNumber) {
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (waiters[i]!.after < readNumber) {
          waiters[i]!.resolve();
          waiters.splice(i, 1);
        }
      }
    },
  };

  const projectionHandle: AsyncProjection = {
    name,
    get generation() {
      return state.generation;
    },
    get checkpoint() {
      return state.checkpoint ?? undefined;
    },
    get done() {
      return done;
    },
    async start() {
      if (started) return;
      Object.assign(
        state,
        await store.transaction((transaction) => setUpProjection(transaction, projection, scope)),
      );
      started = true;
      running = runLive(loop);
      done = running;
      running.catch((error: unknown) => {
        logger?.error({ err: error, projection: name }, 'projection stopped');
        for (const waiter of waiters.splice(0)) waiter.resolve();
      });
    },
    caughtUp() {
      if (!started || stopping.signal.aborted) return Promise.reject(new ProjectionNotRunningError(name));
      return new Promise<void>((resolve) => waiters.push({ after: readsStarted, resolve }));
    },
    async rebuild(rebuildOptions: RebuildOptions = {}) {
      const { report, checkpoint } = await rebuildProjection(
        { store, projection, scope, read },
        rebuildOptions,
      );
      if (!started) {
        state.generation = report.generation;
        state.checkpoint = checkpoint;
      }
      return report;
    },
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
