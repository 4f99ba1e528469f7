import type { Sql } from 'postgres';
import type { AppendResult } from '../event-store.ts';
import type { PreparedAppend } from '../prepare-append.ts';
import type { AppendOutcome } from './append-outcomes.ts';
import { type BatchWriter, isIdRace } from './batch-writer.ts';
import { sortByStream } from './sql/append-batch.ts';

// One statement carries at most this many appends and events: more would only delay the first of them.
const MAX_GROUPS_PER_STATEMENT = 32;
const MAX_EVENTS_PER_STATEMENT = 1_000;
// An append of this many events is a batch already: it gets a statement of its own at once, in parallel
// with others (the pool bounds them), since merging it gains nothing and would serialize big appends.
const LARGE_APPEND = 256;

/** An append waiting for its turn in a batch statement. */
interface QueuedAppend {
  append: PreparedAppend;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

/** What group commit needs: the pool, the batch writer, how many statements may run at once, the wake-up. */
export interface GroupCommitDeps {
  sql: Sql;
  writeBatch: BatchWriter;
  maxInFlight: number;
  /** Called after a statement wrote events. */
  wake(): void;
}

/**
 * Takes from the front of `queue` every append that fits one statement: distinct streams and ids, within
 * the size caps. Removes them from the queue.
 */
export function takeBatch<T extends { append: PreparedAppend }>(queue: T[]): T[] {
  const batch: T[] = [];
  const streams = new Set<string>();
  const ids = new Set<string>();
  let events = 0;
  for (let i = 0; i < queue.length && batch.length < MAX_GROUPS_PER_STATEMENT; ) {
    const entry = queue[i]!;
    const fits =
      !streams.has(entry.append.streamId) &&
      (batch.length === 0 || events + entry.append.events.length <= MAX_EVENTS_PER_STATEMENT) &&
      entry.append.events.every((e) => !ids.has(e.id));
    if (!fits) {
      i++;
      continue;
    }
    queue.splice(i, 1);
    batch.push(entry);
    streams.add(entry.append.streamId);
    for (const e of entry.append.events) ids.add(e.id);
    events += entry.append.events.length;
  }
  return batch;
}

/**
 * Group commit: appends queue here; up to `maxInFlight` statements run at once, each taking every queued
 * append it can. Returns the function that queues one append and resolves with its result.
 */
export function createGroupCommit(deps: GroupCommitDeps): (append: PreparedAppend) => Promise<AppendResult> {
  const { sql, writeBatch, maxInFlight, wake } = deps;
  const queue: QueuedAppend[] = [];
  let inFlight = 0;

  const answer = (entry: QueuedAppend, outcome: AppendOutcome): boolean => {
    if (outcome instanceof Error) {
      entry.reject(outcome);
      return false;
    }
    entry.resolve(outcome.result);
    return outcome.written.length > 0;
  };

  const settleAlone = async (entry: QueuedAppend): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        const [outcome] = await writeBatch(sql, [entry.append], true);
        if (outcome instanceof Error) entry.reject(outcome);
        else {
          if (outcome!.written.length > 0) wake();
          entry.resolve(outcome!.result);
        }
        return;
      } catch (error) {
        if (isIdRace(error) && attempt < 3) continue;
        entry.reject(error);
        return;
      }
    }
  };

  const settle = async (taken: readonly QueuedAppend[]): Promise<void> => {
    const batch = sortByStream(taken);
    let outcomes: AppendOutcome[];
    try {
      outcomes = await writeBatch(
        sql,
        batch.map((q) => q.append),
      );
    } catch (error) {
      if (batch.length > 1 || isIdRace(error)) {
        // One append's failure must not fail the others: each goes again alone (an id race is then
        // answered by the committed row: a duplicate here, DuplicateEventIdError for another stream).
        await Promise.all(batch.map((entry) => settleAlone(entry)));
      } else {
        batch[0]!.reject(error);
      }
      return;
    }
    let wrote = false;
    outcomes.forEach((outcome, index) => {
      if (answer(batch[index]!, outcome)) wrote = true;
    });
    if (wrote) wake();
  };

  const dispatch = (): void => {
    for (let i = 0; i < queue.length; ) {
      const entry = queue[i]!;
      const streamId = entry.append.streamId;
      // Not ahead of an append to the same stream queued before it.
      if (
        entry.append.events.length >= LARGE_APPEND &&
        !queue.slice(0, i).some((q) => q.append.streamId === streamId)
      ) {
        queue.splice(i, 1);
        void settle([entry]);
      } else i++;
    }
    while (inFlight < maxInFlight && queue.length > 0) {
      const batch = takeBatch(queue);
      inFlight++;
      void settle(batch).finally(() => {
        inFlight--;
        dispatch();
      });
    }
  };

  return (append) =>
    new Promise((resolve, reject) => {
      queue.push({ append, resolve, reject });
      dispatch();
    });
}
