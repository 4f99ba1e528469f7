import { describe, expect, it } from 'vitest';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { handlerContext, outcomeOf } from '../test-support/handler-context.ts';
import { type CircuitBreakerState, circuitBreaker } from './circuit-breaker.ts';
import type { HandlerContext } from './handler-context.ts';
import type { HandlerFunction } from './middleware.ts';

const event = { id: 'e1', type: 't' } as CloudEvent;
const contextWith = (signal = new AbortController().signal): HandlerContext => handlerContext({ signal });
const badInput = () => Object.assign(new Error('bad input'), { code: 'KEEL_VALIDATION' });

describe('handler circuit breaker', () => {
  it('opens after consecutive failures, holds events back while open, and closes after a good trial', async () => {
    const changes: CircuitBreakerState[] = [];
    const breaker = circuitBreaker({
      name: 'b',
      failureThreshold: 3,
      halfOpenAfterMs: 50,
      onStateChange: (_name, state) => changes.push(state),
    });
    let healthy = false;
    let calls = 0;
    const run = breaker.middleware(async () => {
      calls++;
      if (!healthy) throw new Error('down');
    });
    for (let i = 0; i < 3; i++) expect(await outcomeOf(() => run(event, contextWith()))).toBe('down');
    expect(breaker.state()).toBe('open');
    const callsWhenOpen = calls;
    const held = outcomeOf(() => run(event, contextWith()));
    await new Promise((resolve) => setTimeout(resolve, 10));
    // The event waits for the breaker instead of reaching the handler.
    expect(calls).toBe(callsWhenOpen);
    healthy = true;
    expect(await held).toBe('ok');
    expect(calls).toBe(callsWhenOpen + 1);
    expect(breaker.state()).toBe('closed');
    expect(changes).toEqual(['open', 'half-open', 'closed']);
  });

  it('counts only consecutive failures: a success in between starts the count again', async () => {
    const breaker = circuitBreaker({ name: 'b', failureThreshold: 3 });
    const outcomes = [false, false, true, false, false, true, false, false];
    let call = 0;
    const run = breaker.middleware(async () => {
      if (!outcomes[call++]) throw new Error('down');
    });
    for (let i = 0; i < outcomes.length; i++) await outcomeOf(() => run(event, contextWith()));
    expect(breaker.state()).toBe('closed');
  });

  it('lets errors that are not failures through without counting them', async () => {
    const breaker = circuitBreaker({ name: 'b', failureThreshold: 2 });
    const run = breaker.middleware(async () => {
      throw badInput();
    });
    for (let i = 0; i < 5; i++) expect(await outcomeOf(() => run(event, contextWith()))).toBe('bad input');
    expect(breaker.state()).toBe('closed');
  });

  it('sees synchronous throws and handlers that return no promise', async () => {
    const breaker = circuitBreaker({ name: 'b', failureThreshold: 2 });
    const throwing = breaker.middleware((() => {
      throw new Error('sync');
    }) as HandlerFunction);
    expect(await outcomeOf(() => throwing(event, contextWith()))).toBe('sync');
    const plain = breaker.middleware(() => undefined);
    // A handler that finished synchronously is answered at once, without a promise.
    expect(plain(event, contextWith())).toBeUndefined();
    expect(await outcomeOf(() => throwing(event, contextWith()))).toBe('sync');
    // The success between the two throws reset the count.
    expect(breaker.state()).toBe('closed');
    expect(await outcomeOf(() => throwing(event, contextWith()))).toBe('sync');
    expect(breaker.state()).toBe('open');
  });

  it('fails an event that started before the breaker opened with its own error', async () => {
    const breaker = circuitBreaker({ name: 'b', failureThreshold: 1, halfOpenAfterMs: 10_000 });
    let release: (error: Error) => void = () => {};
    const slow = breaker.middleware(
      () =>
        new Promise<void>((_, reject) => {
          release = reject;
        }),
    );
    const inFlight = outcomeOf(() => slow(event, contextWith()));
    const fast = breaker.middleware(async () => {
      throw new Error('first');
    });
    expect(await outcomeOf(() => fast(event, contextWith()))).toBe('first');
    expect(breaker.state()).toBe('open');
    release(new Error('late'));
    expect(await inFlight).toBe('late');
  });

  it('stops waiting when the router shuts down', async () => {
    const breaker = circuitBreaker({ name: 'b', failureThreshold: 1, halfOpenAfterMs: 10_000 });
    const run = breaker.middleware(async () => {
      throw new Error('down');
    });
    await outcomeOf(() => run(event, contextWith()));
    const shutdown = new AbortController();
    const waiting = outcomeOf(() => run(event, contextWith(shutdown.signal)));
    shutdown.abort();
    expect(await waiting).toMatch(/open/i);
  });
});

describe('handler circuit breaker under concurrency', () => {
  // Forty handlers finishing together, every other one failing: never two failures in a row.
  const interleaved = async (
    breaker: ReturnType<typeof circuitBreaker>,
    calls: number,
    fails: (i: number) => boolean,
  ) => {
    let call = 0;
    const run = breaker.middleware(async () => {
      const mine = call++;
      await Promise.resolve();
      if (fails(mine)) throw new Error('down');
    });
    return Promise.all(Array.from({ length: calls }, () => outcomeOf(() => run(event, contextWith()))));
  };

  it('stays closed when concurrent failures are interleaved with successes', async () => {
    const breaker = circuitBreaker({ name: 'b', failureThreshold: 5 });
    const outcomes = await interleaved(breaker, 40, (i) => i % 2 === 0);
    expect(outcomes.filter((o) => o === 'down')).toHaveLength(20);
    expect(breaker.state()).toBe('closed');
  });

  it('opens on a real run of concurrent failures', async () => {
    const breaker = circuitBreaker({ name: 'b', failureThreshold: 5, halfOpenAfterMs: 60_000 });
    await interleaved(breaker, 10, (i) => i >= 2);
    expect(breaker.state()).toBe('open');
  });

  it('with a failure rate, opens when the rate over the window passes it and not below it', async () => {
    // Judged from 20 calls in the window on: the first failures alone say little.
    const rate = { threshold: 0.3, windowMs: 1_000, minimumRps: 20 };
    const low = circuitBreaker({ name: 'low', failureRate: rate, halfOpenAfterMs: 60_000 });
    await interleaved(low, 60, (i) => i % 10 === 0);
    expect(low.state()).toBe('closed');
    const high = circuitBreaker({ name: 'high', failureRate: rate, halfOpenAfterMs: 60_000 });
    await interleaved(high, 60, (i) => i % 2 === 0);
    expect(high.state()).toBe('open');
  });
});
