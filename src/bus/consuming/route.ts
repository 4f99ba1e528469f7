import type { CloudEvent } from '../../events/cloud-event.ts';
import type { EventDefinition } from '../../events/define-event.ts';
import type { StoredRecord } from '../../transport/transport.ts';
import type { Escalation } from '../dead-letter/escalate.ts';
import type { FailureInfo } from '../dead-letter/failure-headers.ts';
import type { HandlerCircuitBreaker } from '../middleware/circuit-breaker.ts';
import type { HandlerContext } from '../middleware/handler-context.ts';
import type { HandlerFunction } from '../middleware/middleware.ts';
import { attemptsMade } from '../middleware/retry.ts';
import type { PartitionProgress } from '../partition-progress.ts';
import type { Slots } from './slots.ts';

/** The handler of one event type, with its middleware chain. */
export interface Route {
  readonly definition: EventDefinition;
  /** Handler name, as in metrics, logs and dead letters. */
  readonly name: string;
  readonly breaker: HandlerCircuitBreaker | undefined;
  /**
   * Handles a decoded, upcast event of the route's type: resolves true once it was handled or handed on
   * to a retry or dead-letter topic, false when shutdown or a rebalance interrupted it.
   */
  accept(
    event: CloudEvent,
    record: StoredRecord,
    previous: FailureInfo | undefined,
    progress: PartitionProgress,
  ): Promise<boolean>;
  /** Hands on at once what waits to be handled (a batch being collected). */
  flush(): void;
}

/** What every route shares: the group, the shutdown signal, the concurrency limit and the escalation step. */
export interface RouteDeps {
  group: string;
  /** Aborted when the router shuts down past its deadline. */
  signal: AbortSignal;
  slots: Slots;
  escalation: Escalation;
}

/** The context of a handler's first attempt at the event of `record`. */
export function contextFor(
  deps: RouteDeps,
  record: StoredRecord,
  handler: string,
  delivery: number,
): HandlerContext {
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    group: deps.group,
    handler,
    attempt: 1,
    delivery,
    signal: deps.signal,
  };
}

/** A route that handles each event on its own through `run` (the handler inside its middleware chain). */
export function createSingleRoute(
  deps: RouteDeps,
  definition: EventDefinition,
  name: string,
  run: HandlerFunction,
  breaker: HandlerCircuitBreaker | undefined,
): Route {
  return {
    definition,
    name,
    breaker,
    async accept(event, record, previous, progress) {
      if (progress.revoked || deps.signal.aborted) return false;
      const context = contextFor(deps, record, name, previous?.delivery ?? 1);
      await deps.slots.acquire();
      let failed: { error: unknown } | undefined;
      try {
        await run(event, context);
      } catch (error) {
        failed = { error };
      } finally {
        deps.slots.release();
      }
      if (failed === undefined) return true;
      // Shutdown interrupted the work: leave the record uncommitted for the next member.
      if (deps.signal.aborted || progress.revoked) return false;
      // Outside the slot: the move waits for earlier records of the partition, which may need one.
      const { error } = failed;
      const attempts = attemptsMade(error);
      return deps.escalation.escalate({ record, event, error, handler: name, previous, attempts, progress });
    },
    flush() {},
  };
}
