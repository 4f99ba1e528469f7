import type { Logger } from 'pino';
import type { Consumer, StoredRecord } from '../../transport/transport.ts';
import { abortableSleep } from '../abortable-sleep.ts';
import type { DelayedRetries } from './delayed-retries.ts';
import type { KeyOrderedDispatch } from './key-ordered-dispatch.ts';

/** What the poll loop needs. */
export interface PollLoopOptions {
  dispatch: KeyOrderedDispatch;
  delayed: DelayedRetries;
  /** Most records fetched and not yet done before the loop waits. */
  maxBuffered: number;
  /** False once the router is closing. */
  isRunning: () => boolean;
  signal: AbortSignal;
  logger: Logger;
}

/**
 * Fetches records while the router runs and hands each on: to the delayed-retry scheduler when it
 * comes from a retry topic, else to the key-ordered dispatch; waits while too many are in flight.
 */
export async function pollLoop(member: Consumer, options: PollLoopOptions): Promise<void> {
  const { dispatch, delayed, isRunning } = options;
  while (isRunning()) {
    while (dispatch.buffered() >= options.maxBuffered && isRunning()) await dispatch.whenRecordDone();
    if (!isRunning()) break;
    let records: StoredRecord[];
    try {
      records = await member.poll(100);
    } catch (error) {
      options.logger.error({ err: error }, 'poll failed; retrying in 1 s');
      await abortableSleep(1000, options.signal);
      continue;
    }
    // Records fetched while closing are left uncommitted: the group's next member gets them.
    if (!isRunning()) break;
    for (const record of records) {
      if (delayed.holds(record.topic)) delayed.add(record, member);
      else dispatch.dispatch(record);
    }
  }
}
