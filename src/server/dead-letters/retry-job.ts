import type { DeadLetterFilter, DeadLetterQueue } from '../../bus/dead-letter/dead-letter-queue.ts';
import type { JobContext } from '../jobs/job-registry.ts';

/**
 * Retries every pending entry matching the filter, one by one, as a job: progress after each, stops at the
 * next entry when cancelled. An entry parked behind another is retried with the head of its chain. Entries retried, and those that could not be (closed meanwhile, or an error),
 * are recorded by id, so a job that stops part-way says exactly which moved.
 */
export async function retryDeadLetters(
  dlq: DeadLetterQueue,
  filter: DeadLetterFilter,
  by: string | undefined,
  context: JobContext,
): Promise<void> {
  // Heads and unchained entries only: retrying a head releases the entries parked behind it, in order.
  const pending = await dlq.list({ ...filter, status: 'pending', limit: Number.MAX_SAFE_INTEGER });
  const chosen = pending.filter((e) => e.parkedBehindEntry === undefined).map((e) => e.id);
  context.progress(0, chosen.length);
  let done = 0;
  for (const id of chosen) {
    if (context.signal.aborted) break;
    try {
      for (const retried of await dlq.retry(id, by === undefined ? {} : { by })) {
        context.count('retried', 1, retried);
      }
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      // Retried or discarded by someone else since the job listed it: the selection changed under it.
      context.count(code === 'KEEL_DLQ_ENTRY_CLOSED' ? 'skipped' : 'failed', 1, id);
      if (code !== 'KEEL_DLQ_ENTRY_CLOSED' && code !== 'KEEL_DLQ_ENTRY_NOT_FOUND') throw error;
    }
    context.progress(++done, chosen.length);
  }
}
