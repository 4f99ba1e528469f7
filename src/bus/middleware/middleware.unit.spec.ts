import { describe, expect, it } from 'vitest';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { createMetrics } from '../../observability/metrics.ts';
import { handlerContext, outcomeOf } from '../test-support/handler-context.ts';
import { circuitBreaker } from './circuit-breaker.ts';
import { correlation } from './correlation.ts';
import { metrics } from './metrics.ts';
import { afterNext, compose, type HandlerFunction } from './middleware.ts';
import { retry } from './retry.ts';
import { tracing } from './tracing.ts';

const event = { id: 'e1', type: 't', data: {} } as CloudEvent;
const context = handlerContext();

/** Runs `next` through afterNext and tells what happened, in order. */
function observe(next: HandlerFunction) {
  const log: string[] = [];
  const result = afterNext(
    next,
    event,
    context,
    () => {
      log.push('success');
    },
    (error) => {
      log.push(`failure: ${(error as Error).message}`);
      throw error;
    },
  );
  log.push(result instanceof Promise ? 'returned a promise' : 'returned');
  return { log, result };
}

describe('afterNext', () => {
  it('answers a handler that finished synchronously at once, with no promise', () => {
    const { log, result } = observe(() => undefined);
    expect(result).toBeUndefined();
    expect(log).toEqual(['success', 'returned']);
  });

  it('hands a synchronous throw to onFailure at once', () => {
    expect(() =>
      observe(() => {
        throw new Error('sync');
      }),
    ).toThrow('sync');
  });

  it('waits for a promise, and for a thenable that is not a native promise', async () => {
    for (const next of [
      async () => {},
      // biome-ignore lint/suspicious/noThenProperty: a thenable that is not a native promise is the case under test
      (() => ({ then: (resolve: () => void) => setTimeout(resolve, 1) })) as unknown as HandlerFunction,
    ]) {
      const { log, result } = observe(next);
      expect(log).toEqual(['returned a promise']);
      await result;
      expect(log).toEqual(['returned a promise', 'success']);
    }
  });

  it('passes a rejection to onFailure', async () => {
    const { log, result } = observe(async () => {
      throw new Error('async');
    });
    expect(await outcomeOf(() => result)).toBe('async');
    expect(log).toEqual(['returned a promise', 'failure: async']);
  });
});

describe('the default chain', () => {
  let calls = 0;
  const chain = () =>
    compose(
      [
        correlation(),
        tracing({ system: 'keel' }),
        metrics(createMetrics()),
        retry({ initialDelayMs: 1 }),
        circuitBreaker({ name: 'b' }).middleware,
      ],
      () => {
        calls++;
      },
    );

  it('runs a plain handler through every layer without making a promise', () => {
    expect(chain()(event, context)).toBeUndefined();
    expect(calls).toBe(1);
  });

  it('retries a plain handler that threw, and then answers with a promise', async () => {
    let attempts = 0;
    const run = compose([metrics(createMetrics()), retry({ initialDelayMs: 1 })], () => {
      if (++attempts === 1) throw new Error('once');
    });
    const result = run(event, context);
    expect(result).toBeInstanceOf(Promise);
    await result;
    expect(attempts).toBe(2);
  });
});
