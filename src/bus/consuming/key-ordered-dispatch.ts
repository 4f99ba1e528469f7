import type { Logger } from 'pino';
import type { StoredRecord } from '../../transport/transport.ts';
import type { PartitionProgress } from '../partition-progress.ts';
import type { CommitLoop } from './commit-loop.ts';
import { partitionId } from './partition-id.ts';

/** Handles one record: true once it was handled or handed on (then its offset may commit), false if not. */
export type RecordHandler = (record: StoredRecord, progress: PartitionProgress) => Promise<boolean>;

/** Hands records to the record handler in order per partition key, concurrently across keys. */
export interface KeyOrderedDispatch {
  /** Starts the record once the previous record of its key (in its partition) is done. */
  dispatch(record: StoredRecord): void;
  /** Records dispatched and not yet done. */
  buffered(): number;
  /** Resolves when a record is done (or `wakeAll` is called). */
  whenRecordDone(): Promise<void>;
  /** Resolves every wait for a done record, e.g. when the router closes. */
  wakeAll(): void;
  /** Resolves true once no partition matching `which` has work in flight, false at the deadline (ms). */
  waitForDrain(which: (progress: PartitionProgress) => boolean, deadlineMs: number): Promise<boolean>;
}

/** What the dispatch needs: what handles a record, and the commit loop it reports handled offsets to. */
export interface KeyOrderedDispatchOptions {
  handle: RecordHandler;
  commits: CommitLoop;
  logger: Logger;
}

/** Creates the key-ordered dispatch of a router. */
export function createKeyOrderedDispatch(options: KeyOrderedDispatchOptions): KeyOrderedDispatch {
  const { handle, commits, logger } = options;
  const keyChains = new Map<string, Promise<void>>();
  const spaceWaiters: Array<() => void> = [];
  const drainWaiters: Array<() => void> = [];
  let buffered = 0;

  const wake = (waiters: Array<() => void>) => {
    for (const waiter of waiters.splice(0)) waiter();
  };

  const runRecord = async (record: StoredRecord, progress: PartitionProgress) => {
    const handled = await handle(record, progress);
    buffered--;
    wake(spaceWaiters);
    if (handled) commits.handled(progress, record.offset);
    if (buffered === 0) wake(drainWaiters);
  };

  const failed = (error: unknown) => {
    logger.error({ err: error }, 'router dispatch failed');
  };

  return {
    dispatch(record) {
      const progress = commits.progressOf(record.topic, record.partition);
      progress.started(record.offset);
      buffered++;
      // Keyless records have no order to keep; keyed ones wait for the previous record of their key.
      if (record.key === null) {
        void runRecord(record, progress).catch(failed);
        return;
      }
      const key = `${partitionId(record.topic, record.partition)}\u0000${record.key}`;
      const previous = keyChains.get(key);
      const done = (
        previous ? previous.then(() => runRecord(record, progress)) : runRecord(record, progress)
      ).catch(failed);
      keyChains.set(key, done);
      void done.then(() => {
        if (keyChains.get(key) === done) keyChains.delete(key);
      });
    },
    buffered: () => buffered,
    whenRecordDone: () => new Promise<void>((resolve) => spaceWaiters.push(resolve)),
    wakeAll: () => wake(spaceWaiters),
    waitForDrain: (which, deadlineMs) =>
      new Promise<boolean>((resolve) => {
        const deadline = Date.now() + deadlineMs;
        const check = () => {
          if (!commits.busy(which)) return resolve(true);
          if (Date.now() >= deadline) return resolve(false);
          drainWaiters.push(check);
          setTimeout(check, Math.min(50, Math.max(1, deadline - Date.now()))).unref();
        };
        check();
      }),
  };
}
