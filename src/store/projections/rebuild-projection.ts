import { ProjectionRebuildAbortedError, ProjectionRebuildConflictError } from '../errors.ts';
import type { EventStore, ReadAllPage } from '../event-store.ts';
import type { ProjectionDefinition } from './projection.ts';
import { projectionTable } from './projection.ts';
import { generationTable, setUpProjection } from './projection-setup.ts';
import {
  abandonRebuild,
  advanceRebuildCheckpoint,
  dropTable,
  lockProjection,
  pointView,
  promoteRebuild,
  readProjectionState,
  startRebuild,
} from './sql/checkpoints.ts';

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
  /**
   * Stops the rebuild after the batch in flight: its shadow table is dropped, readers keep the live table,
   * and the rebuild rejects with ProjectionRebuildAbortedError.
   */
  signal?: AbortSignal;
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

/** What a rebuild works on: the store, the projection, its scope, and how it reads a page. */
export interface RebuildTarget {
  store: EventStore;
  projection: ProjectionDefinition;
  scope: string;
  read(after: string | null): Promise<ReadAllPage>;
}

/** Starts a rebuild: a fresh shadow table of the next generation (an abandoned rebuild's shadow is dropped). */
async function startShadow(
  target: RebuildTarget,
): Promise<{ rebuildGeneration: number; oldGeneration: number }> {
  const { store, projection, scope } = target;
  const { name } = projection;
  return store.transaction(async (transaction) => {
    await setUpProjection(transaction, projection, scope);
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
}

/** Applies one page to the shadow table with the rebuild's checkpoint, in one transaction. */
async function applyToShadow(
  target: RebuildTarget,
  generation: number,
  page: ReadAllPage,
  from: string | null,
): Promise<void> {
  const { store, projection } = target;
  await store.transaction(async (transaction) => {
    if (
      !(await advanceRebuildCheckpoint(transaction, projection.name, generation, from, page.next ?? null))
    ) {
      throw new ProjectionRebuildConflictError(projection.name, generation);
    }
    if (page.events.length > 0) {
      await projection.apply(page.events, {
        transaction,
        table: projectionTable(transaction, generationTable(projection.name, generation)),
      });
    }
  });
}

/**
 * The swap: events appended since the last read are left to the live loop, which resumes from the
 * promoted checkpoint on the new table; the old table goes with the view's move, in one transaction.
 */
async function promote(target: RebuildTarget, generation: number, oldGeneration: number, at: string | null) {
  const { name } = target.projection;
  await target.store.transaction(async (transaction) => {
    await lockProjection(transaction, name);
    if (!(await promoteRebuild(transaction, name, generation, at))) {
      throw new ProjectionRebuildConflictError(name, generation);
    }
    const view = projectionTable(transaction, name);
    await pointView(transaction, view.name, transaction.table(generationTable(name, generation)));
    await dropTable(transaction, transaction.table(generationTable(name, oldGeneration)));
  });
}

/** Drops an aborted rebuild's shadow table and forgets it, unless another rebuild took the row over. */
async function abandon(target: RebuildTarget, generation: number): Promise<void> {
  const { name } = target.projection;
  await target.store.transaction(async (transaction) => {
    await lockProjection(transaction, name);
    if (await abandonRebuild(transaction, name, generation)) {
      await dropTable(transaction, transaction.table(generationTable(name, generation)));
    }
  });
}

/**
 * Rebuilds a projection from the first event into a shadow table while the live table keeps serving,
 * then swaps the view to it. Returns the report and the checkpoint the new live table is up to.
 */
export async function rebuildProjection(
  target: RebuildTarget,
  options: RebuildOptions,
): Promise<{ report: RebuildReport; checkpoint: string | null }> {
  const { store, projection } = target;
  const startedAt = performance.now();
  const { rebuildGeneration, oldGeneration } = await startShadow(target);
  const head = await store.headCheckpoint();
  let total = head === undefined ? 0 : await store.countEvents({ types: projection.types, endAt: head });
  let processed = 0;
  let at: string | null = null;
  options.onProgress?.({ processed, total });
  for (;;) {
    if (options.signal?.aborted) {
      await abandon(target, rebuildGeneration);
      throw new ProjectionRebuildAbortedError(projection.name, processed);
    }
    const page = await target.read(at);
    if (page.events.length > 0 || (page.next ?? null) !== at) {
      await applyToShadow(target, rebuildGeneration, page, at);
      at = page.next ?? null;
      processed += page.events.length;
      total = Math.max(total, processed);
      options.onProgress?.({ processed, total });
    }
    if (!page.hasMore) break;
  }
  await promote(target, rebuildGeneration, oldGeneration, at);
  return {
    report: { generation: rebuildGeneration, processed, total, durationMs: performance.now() - startedAt },
    checkpoint: at,
  };
}
