import type { CloudEvent } from '../../events/cloud-event.ts';
import type { HandlerContext } from './handler-context.ts';

/**
 * A handler as middleware sees it: any event; it returns when the event is handled, or a promise when it
 * finishes later, and throws (or rejects) when it failed. `await next(event, context)` serves both.
 */
export type HandlerFunction = (event: CloudEvent, context: HandlerContext) => Promise<void> | void;

/** Wraps a handler in behaviour (retry, timeout, tracing, ...): a function from handler to handler. */
export type Middleware = (next: HandlerFunction) => HandlerFunction;

/** Composes middleware around a handler; the first in the list is the outermost. */
export function compose(middleware: readonly Middleware[], handler: HandlerFunction): HandlerFunction {
  return middleware.reduceRight<HandlerFunction>((next, wrap) => wrap(next), handler);
}

/**
 * Calls `next` and then `onSuccess` or `onFailure` with what it threw or rejected with; returns what the
 * layer returns. A handler that finished synchronously is answered synchronously: a plain function's
 * event goes through the built-in layers without a promise or a microtask each, which is most of what
 * layering costs. A handler's promise gets one reaction, as `await` in an async layer would.
 */
export function afterNext(
  next: HandlerFunction,
  event: CloudEvent,
  context: HandlerContext,
  onSuccess: () => void,
  onFailure: (error: unknown) => Promise<void> | void,
): Promise<void> | void {
  let outcome: unknown;
  try {
    outcome = next(event, context);
  } catch (error) {
    return onFailure(error);
  }
  if (outcome instanceof Promise) return outcome.then(onSuccess, onFailure);
  // A non-native thenable is adopted, as `await` would; any other value means done.
  if (typeof (outcome as PromiseLike<unknown> | undefined)?.then === 'function') {
    return Promise.resolve(outcome).then(onSuccess, onFailure);
  }
  onSuccess();
}
