import { describe, expect, it } from 'vitest';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { createMetrics } from '../../observability/metrics.ts';
import { handlerContext, outcomeOf } from '../test-support/handler-context.ts';
import type { HandlerContext } from './handler-context.ts';
import { metrics } from './metrics.ts';
import type { HandlerFunction } from './middleware.ts';
import { retry } from './retry.ts';

const eventOf = (type: string) => ({ id: 'e1', type }) as CloudEvent;
const context = handlerContext();

describe('metrics middleware', () => {
  it('counts handled and failed events by type and times each, whatever the handler returns or throws', async () => {
    const registry = createMetrics();
    const wrap = metrics(registry);
    const handlers: HandlerFunction[] = [
      async () => {},
      () => undefined,
      async () => {
        throw new Error('down');
      },
      (() => {
        throw new Error('sync');
      }) as HandlerFunction,
    ];
    for (const type of ['a', 'b']) {
      for (const handler of handlers) await outcomeOf(() => wrap(handler)(eventOf(type), context));
    }
    const consumed = await registry.registry.getSingleMetricAsString('keel_event_consumed_total');
    expect(consumed).toMatch(/{group="g",type="a",outcome="handled"} 2$/m);
    expect(consumed).toMatch(/{group="g",type="a",outcome="failed"} 2$/m);
    expect(consumed).toMatch(/{group="g",type="b",outcome="handled"} 2$/m);
    expect(consumed).toMatch(/{group="g",type="b",outcome="failed"} 2$/m);
    const duration = await registry.registry.getSingleMetricAsString(
      'keel_event_processing_duration_seconds',
    );
    expect(duration).toMatch(/_count{group="g",type="a"} 4$/m);
    expect(duration).toMatch(/_bucket{le="\+Inf",group="g",type="b"} 4$/m);
  });

  it('passes the failure on unchanged', async () => {
    const failure = new Error('down');
    const run = metrics(createMetrics())(async () => {
      throw failure;
    });
    await expect(run(eventOf('a'), context)).rejects.toBe(failure);
  });
});

describe('retry middleware', () => {
  it('retries a handler that throws synchronously, counting attempts from 1', async () => {
    const attempts: number[] = [];
    const run = retry({ maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 })(((
      _event: CloudEvent,
      attemptContext: HandlerContext,
    ) => {
      attempts.push(attemptContext.attempt);
      if (attemptContext.attempt < 3) throw new Error('flaky');
    }) as HandlerFunction);
    await run(eventOf('a'), context);
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('does not retry bad input', async () => {
    let calls = 0;
    const run = retry({ maxAttempts: 3, initialDelayMs: 1 })(async () => {
      calls++;
      throw Object.assign(new Error('bad'), { code: 'KEEL_VALIDATION' });
    });
    await expect(run(eventOf('a'), context)).rejects.toThrow('bad');
    expect(calls).toBe(1);
  });
});
