import type { KeelMetrics } from '../../observability/metrics.ts';
import type { Middleware } from './middleware.ts';

/** Counts each handled or failed event and times it (`keel_event_consumed_total`, `keel_event_processing_duration_seconds`). */
export function metrics(registry: KeelMetrics): Middleware {
  // Label lookups hash every label on each call; the children for a group and type never change.
  const children = new Map<
    string,
    {
      handled: ReturnType<KeelMetrics['eventConsumed']['labels']>;
      failed: ReturnType<KeelMetrics['eventConsumed']['labels']>;
      duration: ReturnType<KeelMetrics['processingDuration']['labels']>;
    }
  >();
  const childrenFor = (group: string, type: string) => {
    const id = `${group}\u0000${type}`;
    let found = children.get(id);
    if (!found) {
      found = {
        handled: registry.eventConsumed.labels({ group, type, outcome: 'handled' }),
        failed: registry.eventConsumed.labels({ group, type, outcome: 'failed' }),
        duration: registry.processingDuration.labels({ group, type }),
      };
      children.set(id, found);
    }
    return found;
  };
  return (next) => async (event, context) => {
    const metric = childrenFor(context.group, event.type);
    const started = performance.now();
    try {
      await next(event, context);
      metric.handled.inc();
    } catch (error) {
      metric.failed.inc();
      throw error;
    } finally {
      metric.duration.observe((performance.now() - started) / 1000);
    }
  };
}
