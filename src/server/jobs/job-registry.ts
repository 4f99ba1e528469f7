import { z } from 'zod';
import { parseOptions } from '../../errors/options.ts';
import { newEventId } from '../../events/event-id.ts';
import { ResourceConflictError, ResourceNotFoundError } from '../api/errors.ts';

/** Where a job is in its life. */
export type JobStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

/** A job as the API shows it. */
export interface JobView {
  /** UUIDv7: jobs sort by start time. */
  id: string;
  /** What the job does, e.g. `dead-letters.retry`. */
  kind: string;
  status: JobStatus;
  /** Items handled so far and in all (null while unknown). */
  progress: { done: number; total: number | null };
  /** ISO 8601 times. */
  startedAt: string;
  endedAt: string | null;
  /** Final (or running) counts by name, e.g. `{ retried: 12, failed: 1 }`. */
  counts: Record<string, number>;
  /** Why the job failed, or null. */
  error: string | null;
  /** What the job was asked to do (its selection), as given. */
  params: Record<string, unknown>;
  /** Who started it (the `actor` header), or null. */
  actor: string | null;
  /** Who cancelled it, or null. */
  cancelledBy: string | null;
  /** Items the job touched, by outcome (e.g. ids retried), so a job that stops part-way says exactly which. */
  items: Record<string, string[]>;
}

/** What a running job can report and check. */
export interface JobContext {
  /** Aborted when the job is cancelled (or the node closes): stop at the next item. */
  readonly signal: AbortSignal;
  /** Sets the progress: items done, and the total when known. */
  progress(done: number, total?: number): void;
  /** Adds to a named count, and records the item under it when given. */
  count(name: string, by?: number, item?: string): void;
}

/** How a job is started. */
export interface JobStart {
  kind: string;
  params?: Record<string, unknown>;
  actor?: string | undefined;
  /** The one tenant whose data the job reads; undefined: any tenant's (seen only by identities of every tenant). */
  tenant?: string | undefined;
  run(context: JobContext): Promise<void>;
}

/** Which jobs a caller may see, by the tenant whose data each reads; absent: every job. */
export type JobVisibility = (tenant: string | undefined) => boolean;

/**
 * The node's jobs, kept in memory: a restart forgets them (and stops those running). Long work behind
 * the API (bulk retry, search, rebuild, replay, import) runs here, with progress, counts and cancel.
 */
export interface JobRegistry {
  /** Starts a job in the background and returns its view at once. */
  start(job: JobStart): JobView;
  /** A job's current view; ResourceNotFoundError when unknown or not `visible` (the same answer). */
  get(id: string, visible?: JobVisibility): JobView;
  /** Every job kept (that is `visible`), newest first. */
  list(visible?: JobVisibility): JobView[];
  /** Asks a running job to stop; ResourceConflictError when it already ended, ResourceNotFoundError as `get`. */
  cancel(id: string, actor?: string, visible?: JobVisibility): JobView;
  /** Resolves when the job has ended (for tests and callers that wait). */
  settled(id: string): Promise<JobView>;
  /** Cancels every running job and waits for them to end. */
  close(): Promise<void>;
}

/** Options of the job registry. */
export const jobRegistryOptionsSchema = z.strictObject({
  /** Ended jobs kept for listing before the oldest is forgotten; default 1000. */
  keepEnded: z.int().min(1).default(1000),
});

/** Input of createJobRegistry's options. */
export type JobRegistryOptions = z.input<typeof jobRegistryOptionsSchema>;

interface JobState {
  view: JobView;
  tenant: string | undefined;
  controller: AbortController;
  done: Promise<void>;
}

/** Creates an in-memory job registry. */
export function createJobRegistry(options?: JobRegistryOptions): JobRegistry {
  const { keepEnded } = parseOptions(jobRegistryOptionsSchema, options, 'job registry');
  const jobs = new Map<string, JobState>();

  const find = (id: string, visible?: JobVisibility): JobState => {
    const job = jobs.get(id);
    if (!job || (visible !== undefined && !visible(job.tenant)))
      throw new ResourceNotFoundError('job', id, 'params.id');
    return job;
  };
  const forgetOldEnded = () => {
    const ended = [...jobs.values()].filter((job) => job.view.status !== 'running');
    for (const job of ended.slice(0, Math.max(0, ended.length - keepEnded))) jobs.delete(job.view.id);
  };

  return {
    start(job) {
      const state = runJob(job);
      jobs.set(state.view.id, state);
      void state.done.then(forgetOldEnded);
      return snapshot(state.view);
    },
    get: (id, visible) => snapshot(find(id, visible).view),
    list: (visible) =>
      [...jobs.values()]
        .filter((job) => visible === undefined || visible(job.tenant))
        .map((job) => snapshot(job.view))
        .reverse(),
    cancel(id, actor, visible) {
      const job = find(id, visible);
      if (job.view.status !== 'running') {
        throw new ResourceConflictError(`job ${id} already ended: it is ${job.view.status}`, 'params.id');
      }
      job.view.cancelledBy = actor ?? null;
      job.controller.abort(new JobCancelled());
      return snapshot(job.view);
    },
    async settled(id) {
      const job = find(id);
      await job.done;
      return snapshot(job.view);
    },
    async close() {
      const running = [...jobs.values()].filter((job) => job.view.status === 'running');
      for (const job of running) job.controller.abort(new JobCancelled());
      await Promise.all(running.map((job) => job.done));
    },
  };
}

/** Why a job's signal was aborted when it was cancelled. */
class JobCancelled extends Error {
  constructor() {
    super('job cancelled');
  }
}

function runJob(job: JobStart): JobState {
  const controller = new AbortController();
  const view: JobView = {
    id: newEventId(),
    kind: job.kind,
    status: 'running',
    progress: { done: 0, total: null },
    startedAt: new Date().toISOString(),
    endedAt: null,
    counts: {},
    error: null,
    params: job.params ?? {},
    actor: job.actor ?? null,
    cancelledBy: null,
    items: {},
  };
  const context: JobContext = {
    signal: controller.signal,
    progress(done, total) {
      view.progress = { done, total: total ?? view.progress.total };
    },
    count(name, by = 1, item) {
      view.counts[name] = (view.counts[name] ?? 0) + by;
      if (item === undefined) return;
      const items = view.items[name] ?? [];
      items.push(item);
      view.items[name] = items;
    },
  };
  const done = (async () => {
    // Started on the next turn so the caller has the job's id before any work happens.
    await Promise.resolve();
    try {
      if (!controller.signal.aborted) await job.run(context);
      view.status = controller.signal.aborted ? 'cancelled' : 'succeeded';
    } catch (error) {
      if (controller.signal.aborted) view.status = 'cancelled';
      else {
        view.status = 'failed';
        view.error = error instanceof Error ? error.message : String(error);
      }
    } finally {
      view.endedAt = new Date().toISOString();
    }
  })();
  return { view, tenant: job.tenant, controller, done };
}

/** A copy, so callers never see (or change) a view that moves under them. */
function snapshot(view: JobView): JobView {
  return structuredClone(view);
}
