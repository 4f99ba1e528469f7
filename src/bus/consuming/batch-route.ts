import type { CloudEvent } from '../../events/cloud-event.ts';
import type { EventDefinition } from '../../events/define-event.ts';
import type { StoredRecord } from '../../transport/transport.ts';
import type { FailureInfo } from '../dead-letter/failure-headers.ts';
import type { HandlerCircuitBreaker } from '../middleware/circuit-breaker.ts';
import type { HandlerFunction } from '../middleware/middleware.ts';
import { attemptsMade } from '../middleware/retry.ts';
import { checkEventData } from '../middleware/validation.ts';
import type { PartitionProgress } from '../partition-progress.ts';
import type { BatchHandler } from '../router-port.ts';
import { contextFor, type Route, type RouteDeps } from './route.ts';

/** An event waiting in a batch, and how to tell its record's dispatch it is done. */
interface Pending {
  event: CloudEvent;
  record: StoredRecord;
  previous: FailureInfo | undefined;
  progress: PartitionProgress;
  resolve: (handled: boolean) => void;
}

/** How a batch route forms and checks its batches. */
export interface BatchRouteOptions {
  /** Most events in one batch. */
  maxEvents: number;
  /** Milliseconds the first event of a batch waits for more. */
  maxWaitMs: number;
  /** Check each event's data against the definition before it joins a batch. */
  validate: boolean;
}

/**
 * A route that hands events to its handler in batches of up to `maxEvents`, or what came within
 * `maxWaitMs` of the batch's first event. `run` is the handler inside its middleware chain; it is called
 * with the batch's first event and a context whose `batch` holds them all. A failed batch escalates
 * each of its events; an event whose data breaks the schema is dead-lettered alone, before batching.
 */
export function createBatchRoute(
  deps: RouteDeps,
  definition: EventDefinition,
  name: string,
  run: HandlerFunction,
  breaker: HandlerCircuitBreaker | undefined,
  options: BatchRouteOptions,
): Route {
  let pending: Pending[] = [];
  let timer: NodeJS.Timeout | undefined;

  const runBatch = async (items: Pending[]) => {
    const first = items[0]!;
    const context = {
      ...contextFor(deps, first.record, name, first.previous?.delivery ?? 1),
      batch: items.map((item) => item.event),
    };
    await deps.slots.acquire();
    let failed: { error: unknown } | undefined;
    try {
      await run(first.event, context);
    } catch (error) {
      failed = { error };
    } finally {
      deps.slots.release();
    }
    if (failed === undefined) {
      for (const item of items) item.resolve(true);
      return;
    }
    // Outside the slot, and all at once: each move waits for the earlier records of its partition, which
    // may need a slot or sit later in this batch.
    const { error } = failed;
    const attempts = attemptsMade(error);
    await Promise.all(
      items.map(async (item) => {
        if (deps.signal.aborted) return item.resolve(false);
        const { record, event, previous, progress } = item;
        const failure = { record, event, error, handler: name, previous, attempts, progress };
        item.resolve(await deps.escalation.escalate(failure));
      }),
    );
  };

  const route: Route = {
    definition,
    name,
    breaker,
    accept(event, record, previous, progress) {
      let checked = event;
      if (options.validate) {
        try {
          checked = checkEventData(definition, event);
        } catch (error) {
          const failure = { record, event, error, handler: name, previous, attempts: 0, progress };
          return deps.escalation.escalate(failure);
        }
      }
      return new Promise<boolean>((resolve) => {
        pending.push({ event: checked, record, previous, progress, resolve });
        if (pending.length >= options.maxEvents) route.flush();
        else timer ??= setTimeout(() => route.flush(), options.maxWaitMs);
      });
    },
    flush() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      const items = pending;
      pending = [];
      if (items.length > 0) void runBatch(items);
    },
  };
  return route;
}

/** A batch handler as the innermost step of a chain: it takes the context's batch (or the one event). */
export function callWithBatch(handler: BatchHandler): HandlerFunction {
  return (event, context) => handler((context.batch ?? [event]) as CloudEvent[], context);
}
