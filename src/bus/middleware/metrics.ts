import {
  type BatchedCounter,
  type BatchedHistogram,
  batchedCounter,
  batchedHistogram,
} from '../../observability/metric-batches.ts';
import type { KeelMetrics } from '../../observability/metrics.ts';
import { afterNext, type Middleware } from './middleware.ts';

interface Children {
  group: string;
  type: string;
  handled: BatchedCounter;
  failed: BatchedCounter;
  duration: BatchedHistogram;
}

// One event, or each event of a batch call: the counter counts events whichever handler took them.
const countEvents = (counter: BatchedCounter, batch: readonly unknown[] | undefined) => {
  if (batch === undefined) counter.inc();
  else for (let i = 0; i < batch.length; i++) counter.inc();
};

/**
 * Counts each handled or failed event and times each handler call (`keel_event_consumed_total`,
 * `keel_event_processing_duration_seconds`); a batch call counts each of its events and is timed once.
 */
export function metrics(registry: KeelMetrics): Middleware {
  // A router's chain sees one group and, nearly always, one type: remember the last children before
  // building a key to look them up.
  const children = new Map<string, Children>();
  let last: Children | undefined;
  const childrenFor = (group: string, type: string): Children => {
    if (last !== undefined && last.group === group && last.type === type) return last;
    const id = `${group}\u0000${type}`;
    let found = children.get(id);
    if (!found) {
      found = {
        group,
        type,
        handled: batchedCounter(registry.eventConsumed, { group, type, outcome: 'handled' }),
        failed: batchedCounter(registry.eventConsumed, { group, type, outcome: 'failed' }),
        duration: batchedHistogram(registry.processingDuration, { group, type }),
      };
      children.set(id, found);
    }
    last = found;
    return found;
  };
  return (next) => (event, context) => {
    const metric = childrenFor(context.group, event.type);
    const started = performance.now();
    return afterNext(
      next,
      event,
      context,
      () => {
        countEvents(metric.handled, context.batch);
        metric.duration.observe((performance.now() - started) / 1000);
      },
      (error: unknown) => {
        countEvents(metric.failed, context.batch);
        metric.duration.observe((performance.now() - started) / 1000);
        throw error;
      },
    );
  };
}
