import type { HandlerContext } from '../types.ts';

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
