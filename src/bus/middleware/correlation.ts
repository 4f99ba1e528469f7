import { runInHandlingContext } from '../handling-context.ts';
import type { Middleware } from './middleware.ts';

/**
 * Makes the handled event the current handling context, so events the handler publishes carry its
 * correlation id and, as causation id, its id — with no argument passing. In a batch call the handled
 * event is the batch's first: events published while handling a batch continue its correlation.
 */
export function correlation(): Middleware {
  return (next) => (event, context) =>
    runInHandlingContext({ event, group: context.group }, () => next(event, context));
}
