import { Worker } from 'node:worker_threads';
import { TransportClosedError } from '../errors.ts';
import { ScanThreadError } from './errors.ts';
import type { ScanTask, ScanThreadData } from './scan-thread.ts';
import type { MatchingRows, RangeRequest } from './sql/matching-read-statements.ts';

/** Threads that scan ranges of the log file, each on its own read-only SQLite connection. */
export interface ScanPool {
  /** How many threads ranges are spread over (the cores a scan may use). */
  readonly threads: number;
  /**
   * Whether every thread has opened the file and can take ranges. The first call starts them (a thread
   * takes a tenth of a second or more to start: windows are read in place meanwhile). False for good once
   * a thread failed to start, after `onFailure` was told.
   */
  ready(): boolean;
  /** Starts the threads now and resolves once they are up (true), or could not start or the pool closed (false). */
  start(): Promise<boolean>;
  /** Scans one range on thread `thread` (0 ≤ thread < threads), starting that thread when needed. */
  readRange(range: RangeRequest, thread: number): Promise<MatchingRows>;
  /** Stops every thread; ranges still being scanned are rejected with `TransportClosedError`. */
  close(): Promise<void>;
}

/** How to start the scan threads. */
export interface ScanPoolOptions extends ScanThreadData {
  threads: number;
  /** Told once when a thread cannot start or dies; the pool takes no ranges after it. */
  onFailure(error: ScanThreadError): void;
}

type Answer =
  | { id: number; found: MatchingRows }
  | { id: number; error: { message?: string; code?: string } };
type Pending = Map<number, { resolve: (rows: MatchingRows) => void; reject: (error: Error) => void }>;

// Sources run as they are (tests, child processes) and `dist/` holds the built JavaScript.
const threadUrl = new URL(
  import.meta.url.endsWith('.ts') ? './scan-thread.ts' : './scan-thread.js',
  import.meta.url,
);

/** One started thread: its worker and the ranges it has not answered yet. */
interface Thread {
  worker: Worker;
  pending: Pending;
  ready: boolean;
  /** Resolves true once the thread opened the file, false when it failed or stopped first. */
  up: Promise<boolean>;
  settleUp(up: boolean): void;
}

/** Creates the pool; threads start on their first range, and an idle thread keeps no process alive. */
export function createScanPool(options: ScanPoolOptions): ScanPool {
  const threads: Array<Thread | undefined> = [];
  let nextId = 0;
  let closed = false;
  let broken = false;

  const fail = (slot: number, thread: Thread, error: Error): void => {
    if (threads[slot] === thread) threads[slot] = undefined;
    thread.settleUp(false);
    for (const { reject } of thread.pending.values()) reject(error);
    thread.pending.clear();
    if (!closed && !broken && error instanceof ScanThreadError) {
      broken = true;
      options.onFailure(error);
    }
  };

  const start = (slot: number): Thread => {
    const data: ScanThreadData = { path: options.path, busyTimeoutMs: options.busyTimeoutMs };
    const worker = new Worker(threadUrl, { workerData: data });
    let settleUp: (up: boolean) => void = () => {};
    const up = new Promise<boolean>((resolve) => {
      settleUp = resolve;
    });
    const thread: Thread = { worker, pending: new Map(), ready: false, up, settleUp };
    thread.worker.unref();
    thread.worker.on('message', (answer: Answer) => {
      if ('ready' in answer) {
        thread.ready = true;
        thread.settleUp(true);
        return;
      }
      const waiting = thread.pending.get(answer.id);
      if (waiting === undefined) return;
      thread.pending.delete(answer.id);
      if (thread.pending.size === 0) thread.worker.unref();
      if ('found' in answer) waiting.resolve(answer.found);
      else
        waiting.reject(
          new ScanThreadError(options.path, answer.error.message ?? 'unknown error', { cause: answer.error }),
        );
    });
    thread.worker.on('error', (error) =>
      fail(slot, thread, new ScanThreadError(options.path, error.message, { cause: error })),
    );
    thread.worker.on('exit', (exitCode) =>
      fail(
        slot,
        thread,
        closed
          ? new TransportClosedError('readMatching')
          : new ScanThreadError(options.path, `exited with code ${exitCode}`),
      ),
    );
    threads[slot] = thread;
    return thread;
  };

  return {
    threads: options.threads,
    ready: () => {
      if (closed || broken) return false;
      let all = true;
      for (let slot = 0; slot < options.threads; slot++) all = (threads[slot] ?? start(slot)).ready && all;
      return all;
    },
    start: async () => {
      if (closed || broken) return false;
      const ups = Array.from({ length: options.threads }, (_, slot) => (threads[slot] ?? start(slot)).up);
      return (await Promise.all(ups)).every(Boolean) && !broken;
    },
    readRange: (range, slot) => {
      if (closed) return Promise.reject(new TransportClosedError('readMatching'));
      const thread = threads[slot] ?? start(slot);
      const id = nextId++;
      return new Promise<MatchingRows>((resolve, reject) => {
        // Referenced while it owes an answer, so a process awaiting a scan does not exit under it.
        if (thread.pending.size === 0) thread.worker.ref();
        thread.pending.set(id, { resolve, reject });
        thread.worker.postMessage({ id, range } satisfies ScanTask);
      });
    },
    close: async () => {
      closed = true;
      const started = threads.filter((t): t is Thread => t !== undefined);
      threads.length = 0;
      for (const thread of started) {
        thread.settleUp(false);
        for (const { reject } of thread.pending.values()) reject(new TransportClosedError('readMatching'));
        thread.pending.clear();
      }
      await Promise.allSettled(started.map((t) => t.worker.terminate()));
    },
  };
}
