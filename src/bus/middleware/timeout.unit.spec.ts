import { describe, expect, it } from 'vitest';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { handlerContext, outcomeOf } from '../test-support/handler-context.ts';
import type { HandlerContext } from './handler-context.ts';
import { HandlerTimeoutError, timeout } from './timeout.ts';

const event = { id: 'e1', type: 't' } as CloudEvent;

describe('timeout middleware', () => {
  it('answers a handler that finished synchronously at once, and passes its throw on', () => {
    const outer = new AbortController();
    const context = handlerContext({ signal: outer.signal });
    expect(timeout(10)(() => undefined)(event, context)).toBeUndefined();
    expect(() =>
      timeout(10)(() => {
        throw new Error('sync');
      })(event, context),
    ).toThrow('sync');
  });

  it('fails an attempt that runs past its limit and aborts the signal the handler was given', async () => {
    let given: AbortSignal | undefined;
    const run = timeout(20)((_event: CloudEvent, context: HandlerContext) => {
      given = context.signal;
      return new Promise<void>((resolve) => setTimeout(resolve, 1_000));
    });
    const started = Date.now();
    const failure = await Promise.resolve(run(event, handlerContext())).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(HandlerTimeoutError);
    expect(Date.now() - started).toBeLessThan(900);
    expect(given?.aborted).toBe(true);
  });

  it('lets an attempt within its limit succeed, and hands a router shutdown on to the handler', async () => {
    expect(await outcomeOf(() => timeout(1_000)(async () => {})(event, handlerContext()))).toBe('ok');
    const shutdown = new AbortController();
    let given: AbortSignal | undefined;
    const pending = timeout(1_000)((_event: CloudEvent, context: HandlerContext) => {
      given = context.signal;
      return new Promise<void>((_, reject) =>
        context.signal.addEventListener('abort', () => reject(new Error('stopped'))),
      );
    })(event, handlerContext({ signal: shutdown.signal }));
    shutdown.abort();
    expect(await outcomeOf(() => pending)).toBe('stopped');
    expect(given?.aborted).toBe(true);
  });
});
