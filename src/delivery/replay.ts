import { abortableSleep } from '../bus/abortable-sleep.ts';
import type { Catalog } from '../events/catalog.ts';
import type { CloudEvent } from '../events/cloud-event.ts';
import { fromRecord } from '../events/kafka-binding.ts';
import type { StoredRecord, Transport } from '../transport/transport.ts';
import { type AttemptDeps, attemptDelivery } from './deliver-event.ts';
import { EndpointGoneError } from './errors.ts';
import { compileEventFilter } from './event-filter.ts';
import type { Subscription } from './subscription.ts';
import { topicsOf } from './subscription-runner.ts';

/** Which events to re-deliver: appended at or after `from` and before `to` (milliseconds since the epoch). */
export interface ReplayRange {
  from: number;
  to: number;
}

/** What a replay reports as it goes. */
export interface ReplayProgress {
  readonly signal: AbortSignal;
  /** Adds to a named count (`delivered`, `failed`, `skipped`), with the event id. */
  count(name: 'delivered' | 'failed', item: string): void;
  /** Records scanned so far, and in all. */
  progress(done: number, total: number): void;
}

const PAGE = 500;

/**
 * Re-delivers the events of a range to a subscription's endpoint, as they were (same ids: receivers drop
 * what they already have), recorded as `replay` attempts. Each partition is read in order and its events
 * sent one after another, so order per key holds; partitions run side by side up to the policy's
 * concurrency. An event is attempted by the policy's in-place schedule; one that still fails is counted
 * `failed` and the replay goes on. A 410 Gone stops the replay (and throws EndpointGoneError).
 */
export async function replayRange(
  subscription: Subscription,
  range: ReplayRange,
  deps: AttemptDeps & { transport: Transport; catalog: Catalog },
  report: ReplayProgress,
): Promise<void> {
  const matches = compileEventFilter(subscription.filter);
  const partitions: { topic: string; partition: number; from: bigint; to: bigint }[] = [];
  for (const topic of topicsOf(subscription, deps.catalog)) {
    for (const p of await deps.transport.offsets(topic)) {
      if (p.latest > p.earliest)
        partitions.push({ topic, partition: p.partition, from: p.earliest, to: p.latest });
    }
  }
  const total = partitions.reduce((sum, p) => sum + Number(p.to - p.from), 0);
  let scanned = 0;
  const inRange = (record: StoredRecord) => record.timestamp >= range.from && record.timestamp < range.to;
  const replayPartition = async (p: (typeof partitions)[number]) => {
    for (let offset = p.from; offset < p.to && !report.signal.aborted; ) {
      const records = await deps.transport.read(p.topic, p.partition, offset, PAGE);
      if (records.length === 0) break;
      for (const record of records) {
        if (record.offset >= p.to || report.signal.aborted) break;
        scanned++;
        const event = inRange(record) ? decoded(record) : undefined;
        if (event !== undefined && matches(event))
          await deliverWithRetries(subscription, event, deps, report);
      }
      offset = (records.at(-1) as StoredRecord).offset + 1n;
      report.progress(scanned, total);
    }
  };
  const queue = [...partitions];
  const workers = Array.from(
    { length: Math.min(subscription.policy.concurrency, queue.length) },
    async () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) await replayPartition(next);
    },
  );
  await Promise.all(workers);
  report.progress(scanned, total);
}

function decoded(record: StoredRecord): CloudEvent | undefined {
  try {
    return fromRecord(record);
  } catch {
    return undefined;
  }
}

async function deliverWithRetries(
  subscription: Subscription,
  event: CloudEvent,
  deps: AttemptDeps,
  report: ReplayProgress,
): Promise<void> {
  const { maxAttempts, initialDelayMs, maxDelayMs } = subscription.policy;
  for (let attempt = 1; !report.signal.aborted; attempt++) {
    try {
      await attemptDelivery(subscription, event, 'replay', report.signal, deps);
      report.count('delivered', event.id);
      return;
    } catch (error) {
      if (error instanceof EndpointGoneError || report.signal.aborted) throw error;
      if (attempt >= maxAttempts) {
        report.count('failed', event.id);
        return;
      }
      const delay = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1));
      await abortableSleep(delay * (0.5 + Math.random() / 2), report.signal);
    }
  }
}
