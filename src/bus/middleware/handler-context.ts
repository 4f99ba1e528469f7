import type { CloudEvent } from '../../events/cloud-event.ts';

/** What a handler is given beside the event. */
export interface HandlerContext {
  topic: string;
  partition: number;
  offset: bigint;
  group: string;
  /** Name of the handler (default `<group>:<type>`), as in metrics, logs and dead letters. */
  handler: string;
  /** Attempt at this event within the current round of immediate retries, from 1. */
  attempt: number;
  /** Delivery of this event: 1 from its source topic, 2 and up from delayed-retry topics. */
  delivery: number;
  /** Aborted when the router shuts down past its deadline (or the attempt times out). */
  signal: AbortSignal;
  /**
   * The events of a batch handler's call, in order; the `event` the chain is called with is the first of
   * them, and topic, partition and offset are its. Absent when one event is handled.
   */
  batch?: readonly CloudEvent[];
}
