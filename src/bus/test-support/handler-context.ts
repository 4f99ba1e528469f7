import type { HandlerContext } from '../middleware/handler-context.ts';

/** A handler context as the Router would pass it, for calling middleware directly; `overrides` win. */
export function handlerContext(overrides: Partial<HandlerContext> = {}): HandlerContext {
  return {
    topic: 't',
    partition: 0,
    offset: 0n,
    group: 'g',
    handler: 'h',
    attempt: 1,
    delivery: 1,
    signal: new AbortController().signal,
    ...overrides,
  };
}

/**
 * How a call through middleware ended: 'ok', or the message of what it threw or rejected with — layers
 * answer a handler that finished synchronously synchronously, so a failure may come either way.
 */
export async function outcomeOf(call: () => Promise<void> | void): Promise<string> {
  try {
    await call();
    return 'ok';
  } catch (error) {
    return (error as Error).message;
  }
}
