import { AsyncLocalStorage } from 'node:async_hooks';
import type { CloudEvent } from '../events/cloud-event.ts';

/** What is known about the event a handler is working on, wherever the handler's code runs. */
export interface HandlingContext {
  /** The event being handled. */
  event: CloudEvent;
  /** Consumer group handling it. */
  group: string;
}

const storage = new AsyncLocalStorage<HandlingContext>();

/** Runs `work` with `context` as the current handling context (the router does this around each handler). */
export function runInHandlingContext<T>(context: HandlingContext, work: () => T): T {
  return storage.run(context, work);
}

/** The event the calling code is handling, if it runs inside a handler. */
export function currentHandlingContext(): HandlingContext | undefined {
  return storage.getStore();
}

/**
 * Envelope fields an event published now inherits from the event being handled: the same
 * correlation id (or the handled event's id when it had none), its id as causation, and its tenant.
 */
export function inheritedEnvelope(): { correlationId?: string; causationId?: string; tenantId?: string } {
  const handled = storage.getStore()?.event;
  if (!handled) return {};
  return {
    correlationId: handled.correlationid ?? handled.id,
    causationId: handled.id,
    ...(handled.tenantid === undefined ? {} : { tenantId: handled.tenantid }),
  };
}
