import { describe, expect, it } from 'vitest';
import { OptionsError } from '../../errors/options.ts';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { handlerContext, outcomeOf } from '../test-support/handler-context.ts';
import type { HandlerContext } from './handler-context.ts';
import { attemptsMade, isRetryableByDefault, retry } from './retry.ts';

const event = { id: 'e1', type: 't', data: {} } as CloudEvent;

/** A handler that fails its first `failures` attempts with `error`, and records each attempt's number. */
function failing(failures: number, error: () => unknown = () => new Error('boom')) {
  const attempts: number[] = [];
  const handler = (_event: CloudEvent, context: HandlerContext) => {
    attempts.push(context.attempt);
    if (attempts.length <= failures) throw error();
  };
  return { attempts, handler };
}

describe('retry middleware', () => {
  it('runs a first attempt that succeeds once, synchronously, and never waits', () => {
    const { attempts, handler } = failing(0);
    expect(retry({ initialDelayMs: 10_000 })(handler)(event, handlerContext())).toBeUndefined();
    expect(attempts).toEqual([1]);
  });

  it('retries a failure until an attempt succeeds, numbering the attempts from 1', async () => {
    const { attempts, handler } = failing(2);
    const run = retry({ maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 })(handler);
    expect(await outcomeOf(() => run(event, handlerContext()))).toBe('ok');
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('gives up after maxAttempts with the last error, and tells how many attempts it made', async () => {
    let thrown: unknown;
    const { attempts, handler } = failing(10, () => {
      thrown = new Error(`boom ${attempts.length}`);
      return thrown;
    });
    const run = retry({ maxAttempts: 4, initialDelayMs: 1, maxDelayMs: 2 })(handler);
    const failure = await Promise.resolve(run(event, handlerContext())).catch((error: unknown) => error);
    expect(failure).toBe(thrown);
    expect((failure as Error).message).toBe('boom 4');
    expect(attempts).toEqual([1, 2, 3, 4]);
    expect(attemptsMade(failure)).toBe(4);
  });

  it('passes an error that is not retryable straight through, after one attempt', async () => {
    const invalid = Object.assign(new Error('bad input'), { code: 'KEEL_VALIDATION' });
    const { attempts, handler } = failing(10, () => invalid);
    const run = retry({ maxAttempts: 5, initialDelayMs: 1 })(handler);
    expect(await outcomeOf(() => run(event, handlerContext()))).toBe('bad input');
    expect(attempts).toEqual([1]);
    expect(attemptsMade(invalid)).toBe(1);
    expect(isRetryableByDefault(invalid)).toBe(false);
    expect(isRetryableByDefault(new Error('io'))).toBe(true);
  });

  it('stops at the attempt whose error is not retryable, and counts it', async () => {
    const { attempts, handler } = failing(10, () =>
      attempts.length === 2 ? Object.assign(new Error('now bad'), { code: 'KEEL_UPCAST' }) : new Error('io'),
    );
    const run = retry({ maxAttempts: 5, initialDelayMs: 1, maxDelayMs: 2 })(handler);
    const failure = await Promise.resolve(run(event, handlerContext())).catch((error: unknown) => error);
    expect((failure as Error).message).toBe('now bad');
    expect(attempts).toEqual([1, 2]);
    expect(attemptsMade(failure)).toBe(2);
  });

  it('uses its own isRetryable, and makes no second attempt with maxAttempts 1', async () => {
    const picky = failing(10);
    const run = retry({ isRetryable: () => false, initialDelayMs: 1 })(picky.handler);
    expect(await outcomeOf(() => run(event, handlerContext()))).toBe('boom');
    expect(picky.attempts).toEqual([1]);
    const once = failing(10);
    expect(await outcomeOf(() => retry({ maxAttempts: 1 })(once.handler)(event, handlerContext()))).toBe(
      'boom',
    );
    expect(once.attempts).toEqual([1]);
  });

  it('cuts the wait for the next attempt short when the router shuts down', async () => {
    const shutdown = new AbortController();
    const aborted: boolean[] = [];
    const run = retry({ maxAttempts: 3, initialDelayMs: 5_000 })(
      (_event: CloudEvent, context: HandlerContext) => {
        aborted.push(context.signal.aborted);
        throw new Error('down');
      },
    );
    const started = Date.now();
    const pending = outcomeOf(() => run(event, handlerContext({ signal: shutdown.signal })));
    setTimeout(() => shutdown.abort(new Error('shutdown')), 20);
    expect(await pending).not.toBe('ok');
    expect(Date.now() - started).toBeLessThan(2_000);
    // The first attempt ran before the shutdown; any later one is told of it through its signal.
    expect(aborted[0]).toBe(false);
    expect(aborted.slice(1).every(Boolean)).toBe(true);
  });

  it('refuses options that break their schema, naming the key', () => {
    expect(() => retry({ maxAttempts: 0 })).toThrow(OptionsError);
    expect(() => retry({ initialDelayMs: -1 })).toThrow(/retry\.initialDelayMs/);
  });

  it('reports 1 attempt for a failure no retry layer gave up on', () => {
    expect(attemptsMade(new Error('fresh'))).toBe(1);
    expect(attemptsMade('a string')).toBe(1);
  });
});
