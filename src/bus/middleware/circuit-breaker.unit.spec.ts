import { describe, expect, it } from 'vitest';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { handlerContext } from '../test-support/handler-context.ts';
import type { HandlerContext } from '../types.ts';
import { type CircuitBreakerState, circuitBreaker } from './circuit-breaker.ts';
import type { HandlerFunction } from './middleware.ts';

const event = { id: 'e1', type: 't' } as CloudEvent;
const contextWith = (signal = new AbortController().signal): HandlerContext => handlerContext({ signal });
const badInput = () => Object.assign(new Error('bad input'), { code: 'KEEL_VALIDATION' });
const settle = (promise: Promise<void>) =>
  promise.then(
    () => 'ok',
    (error: Error) => error.message,
  );

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
    for (let i = 0; i < 3; i++) expect(await settle(run(event, contextWith()))).toBe('down');
    expect(breaker.state()).toBe('open');
    const callsWhenOpen = calls;
    const held = run(event, contextWith());
    await new Promise((resolve) => setTimeout(resolve, 10));
    // The event waits for the breaker instead of reaching the handler.
    expect(calls).toBe(callsWhenOpen);
    healthy = true;
    await held;
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
    for (let i = 0; i < outcomes.length; i++) await settle(run(event, contextWith()));
    expect(breaker.state()).toBe('closed');
  });

  it('lets errors that are not failures through without counting them', async () => {
    const breaker = circuitBreaker({ name: 'b', failureThreshold: 2 });
    const run = breaker.middleware(async () => {
      throw badInput();
    });
    for (let i = 0; i < 5; i++) expect(await settle(run(event, contextWith()))).toBe('bad input');
    expect(breaker.state()).toBe('closed');
  });

  it('sees synchronous throws and handlers that return no promise', async () => {
    const breaker = circuitBreaker({ name: 'b', failureThreshold: 2 });
    const throwing = breaker.middleware((() => {
      throw new Error('sync');
    }) as HandlerFunction);
    expect(await settle(throwing(event, contextWith()))).toBe('sync');
    const plain = breaker.middleware((() => undefined) as unknown as HandlerFunction);
    expect(await settle(plain(event, contextWith()))).toBe('ok');
    expect(await settle(throwing(event, contextWith()))).toBe('sync');
    // The success between the two throws reset the count.
    expect(breaker.state()).toBe('closed');
    expect(await settle(throwing(event, contextWith()))).toBe('sync');
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
    const inFlight = settle(slow(event, contextWith()));
    const fast = breaker.middleware(async () => {
      throw new Error('first');
    });
    expect(await settle(fast(event, contextWith()))).toBe('first');
    expect(breaker.state()).toBe('open');
    release(new Error('late'));
    expect(await inFlight).toBe('late');
  });

  it('stops waiting when the router shuts down', async () => {
    const breaker = circuitBreaker({ name: 'b', failureThreshold: 1, halfOpenAfterMs: 10_000 });
    const run = breaker.middleware(async () => {
      throw new Error('down');
    });
    await settle(run(event, contextWith()));
    const shutdown = new AbortController();
    const waiting = settle(run(event, contextWith(shutdown.signal)));
    shutdown.abort();
    expect(await waiting).toMatch(/open/i);
  });
});
