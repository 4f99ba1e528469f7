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
