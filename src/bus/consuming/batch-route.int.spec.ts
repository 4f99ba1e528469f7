import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { createMetrics, type KeelMetrics } from '../../observability/metrics.ts';
import { createDeadLetterQueue } from '../dead-letter/dead-letter-queue.ts';
import { currentHandlingContext } from '../handling-context.ts';
import { createSqliteInbox } from '../inbox/sqlite-inbox.ts';
import type { HandlerContext } from '../middleware/handler-context.ts';
import type { Middleware } from '../middleware/middleware.ts';
import { HandlerTimeoutError } from '../middleware/timeout.ts';
import { createPublisher } from '../publisher.ts';
import { createRouter } from '../router.ts';
import type { Router, RouterOptions } from '../router-port.ts';
import { CounterIncremented, counterCatalogFor } from '../test-support/counter-catalog.ts';
import { embeddedTestTransport, type OpenedTransport } from '../test-support/transports.ts';

const silent = pino({ level: 'silent' });

const until = async (condition: () => boolean | Promise<boolean>, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

describe('batch routes run through the handler chain', () => {
  let opened: OpenedTransport;
  let catalog: ReturnType<typeof counterCatalogFor>['catalog'];
  let group: string;
  let metrics: KeelMetrics;
  const routers: Router[] = [];

  beforeEach(async () => {
    opened = await embeddedTestTransport.open();
    const counters = counterCatalogFor(opened.prefix);
    catalog = counters.catalog;
    group = `${opened.prefix}-batch`;
    await opened.transport.ensureTopics([counters.topic]);
    metrics = createMetrics();
  });
  afterEach(async () => {
    for (const router of routers.splice(0)) await router.close(2_000);
    await opened.close();
  });

  const routerWith = (options: Partial<RouterOptions> = {}) => {
    const router = createRouter({
      transport: opened.transport,
      catalog,
      group,
      metrics,
      logger: silent,
      shutdownSignals: [],
      commitIntervalMs: 10,
      retry: { maxAttempts: 2, initialDelayMs: 5, maxDelayMs: 10 },
      delayedRetries: [],
      circuitBreaker: false,
      ...options,
    });
    routers.push(router);
    return router;
  };
  const publisher = () => createPublisher({ transport: opened.transport, catalog, source: 'urn:keel:test' });
  const publishSeqs = (count: number, options: { correlationId?: string } = {}) =>
    publisher().publishMany(
      CounterIncremented,
      Array.from({ length: count }, (_, seq) => ({ key: `k${seq}`, seq })),
      options,
    );

  it('calls user middleware once per batch attempt, with the batch in the context', async () => {
    const calls: Array<{ first: string; batch: string[]; attempt: number }> = [];
    const watching: Middleware = (next) => async (event, context) => {
      calls.push({
        first: event.id,
        batch: (context.batch ?? []).map((e) => e.id),
        attempt: context.attempt,
      });
      await next(event, context);
    };
    const handled: string[][] = [];
    routerWith({ middleware: [watching] }).onBatch(
      CounterIncremented,
      (events) => void handled.push(events.map((e) => e.id)),
      { maxEvents: 50, maxWaitMs: 20 },
    );
    await routers[0]!.start();
    const published = await publishSeqs(5);
    await until(() => handled.flat().length === 5);
    expect(calls.length).toBe(handled.length);
    expect(calls.map((call) => call.batch)).toEqual(handled);
    expect(calls.every((call) => call.first === call.batch[0] && call.attempt === 1)).toBe(true);
    expect(handled.flat().sort()).toEqual(published.map((receipt) => receipt.id).sort());
  });

  it('sets the handling context: events a batch handler publishes continue its first event', async () => {
    let current: CloudEvent | undefined;
    let caused: { id: string; partition: number } | undefined;
    const router = routerWith();
    router.onBatch(
      CounterIncremented,
      async (events) => {
        if (events.some((e) => e.data?.seq === 0)) {
          current = currentHandlingContext()?.event;
          caused = await publisher().publishTo(`${opened.prefix}.counters`, CounterIncremented, {
            key: 'out',
            seq: 99,
          });
        }
      },
      { maxEvents: 10, maxWaitMs: 20 },
    );
    await router.start();
    const [first] = await publishSeqs(1, { correlationId: 'req-7' });
    await until(() => caused !== undefined);
    expect(current?.id).toBe(first!.id);
    const record = (
      await opened.transport.read(`${opened.prefix}.counters`, caused!.partition, 0n, 100)
    ).find((r) => r.headers.ce_id === caused!.id);
    expect(record?.headers).toMatchObject({ ce_correlationid: 'req-7', ce_causationid: first!.id });
  });

  it('times out a batch attempt that runs past timeoutMs, and retries the batch', async () => {
    const contexts: HandlerContext[] = [];
    const router = routerWith({ timeoutMs: 50 });
    router.onBatch(
      CounterIncremented,
      async (_events, context) => {
        contexts.push(context);
        if (contexts.length === 1) await new Promise((resolve) => setTimeout(resolve, 500));
      },
      { maxEvents: 10, maxWaitMs: 20 },
    );
    await router.start();
    await publishSeqs(3);
    await until(() => contexts.length === 2);
    expect(contexts[0]!.signal.aborted).toBe(true);
    expect(contexts[0]!.signal.reason).toBeInstanceOf(HandlerTimeoutError);
    expect(contexts[1]!.attempt).toBe(2);
    expect(contexts[1]!.signal.aborted).toBe(false);
  });

  it('skips the events of a batch the inbox has seen, and counts each event of the batch', async () => {
    const inbox = createSqliteInbox({ path: ':memory:' });
    const published = await publishSeqs(4);
    await inbox.remember(group, published[1]!.id);
    const handled: string[] = [];
    const router = routerWith({ inbox });
    router.onBatch(CounterIncremented, (events) => void handled.push(...events.map((e) => e.id)), {
      maxEvents: 50,
      maxWaitMs: 20,
    });
    await router.start();
    await until(
      async () => (await inbox.seen(group, published[3]!.id)) && (await inbox.seen(group, published[0]!.id)),
    );
    await until(() => handled.length === 3);
    expect(handled.sort()).toEqual([published[0]!.id, published[2]!.id, published[3]!.id].sort());
    const consumed = await metrics.registry.getSingleMetricAsString('keel_event_consumed_total');
    // Metrics sit outside dedupe: each event of the batch counts, a skipped one too (as for `on`).
    expect(consumed).toMatch(/outcome="handled"} 4/);
    await router.close();
    await inbox.close();
  });

  it('dead-letters every event of a failed batch with the attempts the retry layer made', async () => {
    const router = routerWith({ retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 } });
    let calls = 0;
    router.onBatch(
      CounterIncremented,
      () => {
        calls++;
        throw new Error('batch refused');
      },
      { maxEvents: 10, maxWaitMs: 20 },
    );
    await router.start();
    await publishSeqs(2);
    const dlq = createDeadLetterQueue({ transport: opened.transport, group });
    await until(async () => (await dlq.list()).length === 2);
    const entries = await dlq.list();
    expect(entries.map((entry) => entry.failure.attempts)).toEqual([3, 3]);
    expect(calls % 3).toBe(0);
    expect(entries.every((entry) => entry.failure.errorMessage === 'batch refused')).toBe(true);
  });
});
