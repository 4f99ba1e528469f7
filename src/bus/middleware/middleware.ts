import type { CloudEvent } from '../../events/cloud-event.ts';
import type { HandlerContext } from '../types.ts';

/** A handler as middleware sees it: any event, a promise, a thrown error for failure. */
export type HandlerFunction = (event: CloudEvent, context: HandlerContext) => Promise<void>;

/** Wraps a handler in behaviour (retry, timeout, tracing, ...): a function from handler to handler. */
export type Middleware = (next: HandlerFunction) => HandlerFunction;

/** Composes middleware around a handler; the first in the list is the outermost. */
export function compose(middleware: readonly Middleware[], handler: HandlerFunction): HandlerFunction {
  return middleware.reduceRight<HandlerFunction>((next, wrap) => wrap(next), handler);
}

const settled: Promise<void> = Promise.resolve();

/**
 * Calls `next` and returns its outcome as a promise: a synchronous throw becomes a rejection, and a
 * handler that returned no promise (a plain function passed to `router.on`) a resolved one. Layers chain
 * on it instead of awaiting `next` in an async function of their own, which costs a frame and a promise
 * more per event, and still see every failure.
 */
export function callNext(next: HandlerFunction, event: CloudEvent, context: HandlerContext): Promise<void> {
  try {
    const outcome: unknown = next(event, context);
    if (outcome instanceof Promise) return outcome as Promise<void>;
    // A plain handler returns nothing: one settled promise serves them all, no allocation per event.
    if (outcome === undefined) return settled;
    // Resolving with a non-native thenable adopts it, as `await` would have.
    return Promise.resolve(outcome).then(() => undefined);
  } catch (error) {
    return Promise.reject(error);
  }
}
