import { context as otelContext, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEvent } from '../events/create-event.ts';
import { fromRecord, toRecord } from '../events/kafka-binding.ts';
import { createMetrics, type KeelMetrics } from '../observability/metrics.ts';
import type { Transport } from '../transport/transport.ts';
import { createDeadLetterQueue } from './dead-letter/dead-letter-queue.ts';
import { deadLetterTopic, retryTopic } from './dead-letter/topic-names.ts';
import { createSqliteInbox } from './inbox/sqlite-inbox.ts';
import { HandlerTimeoutError } from './middleware/timeout.ts';
import { createPublisher } from './publisher.ts';
import { createRouter } from './router.ts';
import type { Router, RouterOptions } from './router-port.ts';
import { CircuitBreakerStateChanged, SystemTopic } from './system-events.ts';
import { CounterIncremented, counterCatalogFor } from './test-support/counter-catalog.ts';
import { readTopic } from './test-support/publishing-catalog.ts';
import { type OpenedTransport, testTransports } from './test-support/transports.ts';

const silent = pino({ level: process.env.TEST_LOG ?? 'silent' });

const until = async (condition: () => boolean | Promise<boolean>, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

/** Every record of a partition from `from` to its end; one read may return fewer (a fetch on Kafka). */
const readToEnd = async (transport: Transport, topic: string, partition: number, from: bigint) => {
  const latest = (await transport.offsets(topic)).find((p) => p.partition === partition)!.latest;
  const records = [];
  while (from < latest) {
    const page = await transport.read(topic, partition, from, 1_000);
    if (page.length === 0) break;
    records.push(...page);
    from = page[page.length - 1]!.offset + 1n;
  }
  return records;
};

describe.each(testTransports)('reliable processing on $name', (testTransport) => {
  let opened: OpenedTransport;
  let transport: Transport;
  let group: string;
  let catalog: ReturnType<typeof counterCatalogFor>['catalog'];
  let topic: ReturnType<typeof counterCatalogFor>['topic'];
  let metrics: KeelMetrics;
  const routers: Router[] = [];

  beforeEach(async () => {
    opened = await testTransport.open();
    transport = opened.transport;
    group = `${opened.prefix}-g`;
    ({ catalog, topic } = counterCatalogFor(opened.prefix));
    await transport.ensureTopics([topic]);
    metrics = createMetrics();
  });
  afterEach(async () => {
    for (const router of routers.splice(0)) await router.close(2_000);
    await opened.close();
  });

  const routerWith = (options: Partial<RouterOptions> = {}) => {
    const router = createRouter({
      transport,
      catalog,
      group,
      metrics,
      logger: silent,
      shutdownSignals: [],
      commitIntervalMs: 10,
      sessionTimeoutMs: 3_000,
      retry: { maxAttempts: 3, initialDelayMs: 5, maxDelayMs: 20 },
      delayedRetries: [100, 200],
      // The breaker has a test of its own; elsewhere a failing event would open it and pause the handler.
      circuitBreaker: false,
      ...options,
    });
    routers.push(router);
    return router;
  };
  const publish = (key: string, seq: number) =>
    createPublisher({ transport, catalog, source: 'urn:keel:test' }).publish(CounterIncremented, {
      key,
      seq,
    });
  const dlq = () => createDeadLetterQueue({ transport, group, metrics });

  it('moves a failing event through the delayed-retry topics to the DLQ, with its cause and attempts', async () => {
    const attempts: number[] = [];
    const router = routerWith();
    router.on(CounterIncremented, (event, context) => {
      attempts.push(context.delivery);
      if (event.data!.seq === 13) throw new Error('downstream says no');
    });
    await router.start();
    const published = await publish('k', 13);
    await until(async () => (await dlq().list()).length === 1);
    const [entry] = await dlq().list();
    expect(entry!.eventId).toBe(published.id);
    expect(entry!.event?.data).toEqual({ key: 'k', seq: 13 });
    expect(entry!.failure).toMatchObject({
      errorType: 'Error',
      errorMessage: 'downstream says no',
      attempts: 9,
      handler: `${group}:test.counter.incremented`,
      sourceTopic: topic.name,
      sourcePartition: published.partition,
      sourceOffset: published.offset,
    });
    expect(entry!.failure.errorStack).toContain('downstream says no');
    expect(entry!.failure.lastFailureAt).toBeGreaterThan(entry!.failure.firstFailureAt);
    expect(attempts).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3]);
    expect(await metrics.registry.getSingleMetricAsString('keel_dlq_messages_total')).toMatch(
      /error="Error"} 1/,
    );
    // Read, not counted from offsets: on Kafka a transaction's commit marker takes an offset too.
    let retried = 0;
    for (const p of await transport.offsets(retryTopic(group, 100))) {
      retried += (await readToEnd(transport, retryTopic(group, 100), p.partition, p.earliest)).length;
    }
    expect(retried).toBe(1);
  });

  it('sends data that breaks the schema straight to the DLQ, and retries or discards entries from it', async () => {
    let broken = true;
    const handled: number[] = [];
    const router = routerWith();
    router.on(CounterIncremented, (event) => {
      if (broken && event.data!.seq === 2) throw new Error('bug in the handler');
      handled.push(event.data!.seq);
    });
    await router.start();
    // A producer that skips validation: the consumer's validation catches it and does not retry.
    // Keyless: nothing waits behind it in order.
    const bad = createEvent(CounterIncremented, { key: 'k', seq: 1 }, { source: 'urn:test' });
    const badRecord = { ...toRecord({ ...bad, data: { key: 'k', seq: 'one' } }), key: null };
    await transport.append([{ topic: topic.name, partition: 0, records: [badRecord] }]);
    await publish('k', 2);
    await until(async () => (await dlq().list()).length === 2);
    const entries = await dlq().list();
    const invalid = entries.find((e) => e.failure.errorType === 'ValidationError')!;
    expect(invalid.failure.attempts).toBe(1);
    expect(invalid.failure.errorMessage).toContain('data.seq');
    expect(await dlq().list({ errorType: 'ValidationError' })).toHaveLength(1);

    broken = false;
    const failed = entries.find((e) => e.failure.errorType === 'Error')!;
    expect(await dlq().retry(failed.id, { by: 'ops@example.org' })).toEqual([failed.id]);
    await until(() => handled.includes(2));
    expect(await dlq().discard(invalid.id, 'producer fixed; event obsolete')).toEqual([invalid.id]);
    const after = await dlq().list();
    expect(after.find((e) => e.id === failed.id)?.status).toBe('retried');
    expect(after.find((e) => e.id === invalid.id)).toMatchObject({
      status: 'discarded',
      reason: 'producer fixed; event obsolete',
    });
    expect(await dlq().list({ status: 'pending' })).toHaveLength(0);
    await expect(dlq().retry(failed.id)).rejects.toMatchObject({ code: 'KEEL_DLQ_ENTRY_CLOSED' });
    await expect(dlq().get('9:999')).resolves.toBeUndefined();
    await expect(dlq().discard('9:999', 'x')).rejects.toMatchObject({ code: 'KEEL_DLQ_ENTRY_NOT_FOUND' });
    expect(await metrics.registry.getSingleMetricAsString('keel_dlq_retries_total')).toMatch(/} 1$/m);
    // The actions are events in the DLQ topic itself.
    const actionTypes = [];
    for (const p of await transport.offsets(deadLetterTopic(group))) {
      for (const record of await readToEnd(transport, deadLetterTopic(group), p.partition, p.earliest)) {
        if (!record.headers.keel_error_type) actionTypes.push(fromRecord(record).type);
      }
    }
    expect(actionTypes.sort()).toEqual(['keel.dlq.entry.discarded', 'keel.dlq.entry.retried']);
  });

  it('keeps order per key: later events of a failing key wait behind it in the DLQ until its retry releases them', async () => {
    let poisoned = true;
    const handled: string[] = [];
    const router = routerWith({ lagIntervalMs: 50 });
    router.on(CounterIncremented, (event) => {
      const { key, seq } = event.data!;
      if (poisoned && key === 'bad' && seq === 1) throw new Error('downstream says no');
      handled.push(`${key}:${seq}`);
    });
    await router.start();
    for (let seq = 1; seq <= 4; seq++) await publish('bad', seq);
    await publish('good', 1);
    await until(async () => handled.includes('good:1') && (await dlq().list()).length === 4);
    // The head and, behind it in order, the events of its key; no event of the key was handled.
    const entries = await dlq().list();
    const head = entries.find((e) => e.parkedBehindEntry === undefined)!;
    expect(head.event?.data).toEqual({ key: 'bad', seq: 1 });
    expect(head.parkedBehind).toBe(3);
    expect(head.failure.parked).toBe('head');
    for (const entry of entries.filter((e) => e !== head)) {
      expect(entry).toMatchObject({ parkedBehindEntry: head.id, failure: { parked: 'follower' } });
    }
    expect(handled).toEqual(['good:1']);
    // The gauges are read at a lag tick: wait for one that saw the whole chain.
    await until(async () => {
      const keys = await metrics.registry.getSingleMetricAsString('keel_parked_keys');
      const events = await metrics.registry.getSingleMetricAsString('keel_parked_events');
      return /keel_parked_keys\{group="[^"]+"\} 1$/m.test(keys) && /} 3$/m.test(events);
    });
    // A later event of the key waits too; acting on a parked entry is refused.
    await publish('bad', 5);
    await until(async () => (await dlq().list({ status: 'pending' })).length === 5);
    await expect(dlq().retry(entries[1]!.id)).rejects.toMatchObject({ code: 'KEEL_DLQ_ENTRY_PARKED' });
    poisoned = false;
    const released = await dlq().retry(head.id, { by: 'ops@example.org' });
    expect(released).toHaveLength(5);
    await until(() => handled.length === 6);
    expect(handled).toEqual(['good:1', 'bad:1', 'bad:2', 'bad:3', 'bad:4', 'bad:5']);
    // Released: the key flows again.
    await publish('bad', 6);
    await until(() => handled.length === 7);
    expect(await dlq().list({ status: 'pending' })).toHaveLength(0);
  });

  it("with onDeadLetter 'continue', handles the events behind a dead-lettered one", async () => {
    const handled: number[] = [];
    const router = routerWith({ onDeadLetter: 'continue' });
    router.on(CounterIncremented, (event) => {
      if (event.data!.seq === 1) throw new Error('poison');
      handled.push(event.data!.seq);
    });
    await router.start();
    for (let seq = 1; seq <= 3; seq++) await publish('k', seq);
    await until(() => handled.length === 2);
    expect(handled).toEqual([2, 3]);
    const [entry] = await dlq().list();
    expect(entry!.failure.parked).toBeUndefined();
    expect(entry!.parkedBehind).toBe(0);
  });

  it('releases the events behind a discarded head, in order, without handling the head', async () => {
    let poisoned = true;
    const handled: number[] = [];
    const router = routerWith();
    router.on(CounterIncremented, (event) => {
      if (poisoned && event.data!.seq === 1) throw new Error('poison');
      handled.push(event.data!.seq);
    });
    await router.start();
    for (let seq = 1; seq <= 3; seq++) await publish('k', seq);
    await until(async () => (await dlq().list()).length === 3);
    poisoned = false;
    const head = (await dlq().list()).find((e) => e.parkedBehindEntry === undefined)!;
    expect(await dlq().discard(head.id, 'obsolete')).toEqual([head.id]);
    await until(() => handled.length === 2);
    expect(handled).toEqual([2, 3]);
    // The head was discarded alone: the next event of the key is handled at once.
    await publish('k', 4);
    await until(() => handled.length === 3);
    expect(handled).toEqual([2, 3, 4]);
  });

  it('dead-letters a record that is not a CloudEvent (a poison pill) and goes on', async () => {
    const handled: number[] = [];
    const router = routerWith();
    router.on(CounterIncremented, (event) => void handled.push(event.data!.seq));
    await router.start();
    await transport.append([
      {
        topic: topic.name,
        partition: 1,
        records: [{ key: 'x', value: new Uint8Array([1, 2, 3]), headers: {} }],
      },
    ]);
    await publish('k', 7);
    await until(async () => handled.includes(7) && (await dlq().list()).length === 1);
    const [entry] = await dlq().list();
    expect(entry!.event).toBeUndefined();
    expect(entry!.failure.handler).toBe(`${group}:undecodable`);
    expect(entry!.record.value).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('with ordering none, does not hold events of the key behind a poison message longer than the first delayed-retry delay', async () => {
    const handledAt = new Map<number, number>();
    const router = routerWith({ delayedRetries: [1_000, 1_000] });
    router.on(
      CounterIncremented,
      (event) => {
        if (event.data!.seq === 0) throw new Error('poison');
        handledAt.set(event.data!.seq, Date.now());
      },
      { ordering: 'none' },
    );
    await router.start();
    await publish('same-key', 0);
    const sentAt = Date.now();
    for (let seq = 1; seq <= 10; seq++) await publish('same-key', seq);
    await until(() => handledAt.size === 10);
    const slowest = Math.max(...handledAt.values()) - sentAt;
    expect(slowest).toBeLessThan(1_000);
  });

  it('opens a handler breaker after repeated failures, pauses instead of retrying, and closes on recovery', async () => {
    let healthy = false;
    let calls = 0;
    const router = routerWith({
      // Open long enough that the 300 ms check below sits well inside it, even on a loaded machine.
      circuitBreaker: { failureThreshold: 3, halfOpenAfterMs: 2_000 },
      retry: { maxAttempts: 1 },
      delayedRetries: [50, 50, 50, 50, 50, 50],
    });
    const handledSeqs: number[] = [];
    // The system topic outlives runs on a shared Kafka cluster: read only what this test adds to it.
    const systemStart = await transport
      .offsets(SystemTopic.name)
      .then((partitions) => partitions.find((p) => p.partition === 0)?.latest ?? 0n)
      .catch(() => 0n);
    router.on(CounterIncremented, (event) => {
      calls++;
      if (!healthy) throw new Error('database down');
      handledSeqs.push(event.data!.seq);
    });
    await router.start();
    for (let seq = 0; seq < 6; seq++) await publish(`k${seq}`, seq);
    await until(() => router.health().status === 'degraded');
    expect(await metrics.registry.getSingleMetricAsString('keel_circuit_breaker_state')).toMatch(/} 1$/m);
    const callsWhenOpen = calls;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(calls).toBe(callsWhenOpen);
    healthy = true;
    await until(() => handledSeqs.length === 6);
    expect(router.health().breakers[`${group}:test.counter.incremented`]).toBe('closed');
    const stateChanges = async () => {
      const states: string[] = [];
      const records = await readToEnd(transport, SystemTopic.name, 0, systemStart);
      for (const record of records) {
        const event = fromRecord(record);
        if (
          event.type === CircuitBreakerStateChanged.type &&
          (event.data as { name: string }).name.startsWith(group)
        ) {
          states.push((event.data as { state: string }).state);
        }
      }
      return states;
    };
    // The state changes are published in the background: wait for the last one to land.
    await until(async () => (await stateChanges()).at(-1) === 'closed');
    const changes = await stateChanges();
    // A half-open trial that still met the failure reopens the breaker (slower fetch cycles on Kafka make
    // that happen): every opening is followed by a trial, and the last trial closed it.
    expect(changes.slice(0, 2)).toEqual(['open', 'half-open']);
    expect(changes.slice(-2)).toEqual(['half-open', 'closed']);
    changes.forEach((state, i) => {
      if (state === 'open') expect(changes[i + 1]).toBe('half-open');
    });
  });

  it('skips a redelivered event with an inbox (idempotent consumer)', async () => {
    const inbox = createSqliteInbox({ path: ':memory:' });
    const effects: string[] = [];
    const router = routerWith({ inbox });
    router.on(CounterIncremented, (event) => void effects.push(event.id));
    await router.start();
    const event = createEvent(CounterIncremented, { key: 'k', seq: 1 }, { source: 'urn:test' });
    const record = toRecord(event);
    await transport.append([{ topic: topic.name, partition: 0, records: [record, record] }]);
    await publish('k', 2);
    await until(() => effects.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(effects.filter((id) => id === event.id)).toHaveLength(1);
    expect(await inbox.seen(group, event.id)).toBe(true);
    await inbox.close();
  });

  it('times out a slow attempt and retries it', async () => {
    let attempts = 0;
    const router = routerWith({ timeoutMs: 50, delayedRetries: [] });
    router.on(CounterIncremented, async (_event, context) => {
      attempts++;
      if (attempts === 1) await new Promise((resolve) => setTimeout(resolve, 500));
      expect(context.signal.aborted).toBe(false);
    });
    await router.start();
    await publish('k', 1);
    await until(() => attempts === 2);
    expect((await dlq().list()).length).toBe(0);
    expect(new HandlerTimeoutError('x', 50).code).toBe('KEEL_HANDLER_TIMEOUT');
  });

  it('hands events to a batch handler in batches of at most maxEvents', async () => {
    const batches: number[][] = [];
    const router = routerWith();
    router.onBatch(CounterIncremented, (events) => void batches.push(events.map((e) => e.data!.seq)), {
      maxEvents: 10,
      maxWaitMs: 20,
    });
    await router.start();
    await createPublisher({ transport, catalog, source: 'urn:test' }).publishMany(
      CounterIncremented,
      Array.from({ length: 45 }, (_, seq) => ({ key: `k${seq}`, seq })),
    );
    await until(() => batches.flat().length === 45);
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(10);
    expect(batches.length).toBeLessThan(45);
    expect(batches.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 45 }, (_, i) => i));
  });

  it('exports the consumer lag of its group per partition', async () => {
    const router = routerWith({ lagIntervalMs: 50 });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    router.on(CounterIncremented, () => gate);
    for (let seq = 0; seq < 5; seq++) await publish('one-key', seq);
    await router.start();
    const lagOf = async () => {
      const text = await metrics.registry.getSingleMetricAsString('keel_consumer_lag_messages');
      return [...text.matchAll(new RegExp(`topic="${topic.name}",partition="\\d+"} (\\d+)`, 'g'))].reduce(
        (sum, m) => sum + Number(m[1]),
        0,
      );
    };
    await until(async () => (await lagOf()) === 5);
    release();
    await until(async () => (await lagOf()) === 0);
  });

  it('pauses and resumes consumption, and reports its health', async () => {
    const handled: number[] = [];
    const router = routerWith();
    router.on(CounterIncremented, (event) => void handled.push(event.data!.seq));
    await router.start();
    await publish('k', 1);
    await until(() => handled.length === 1);
    router.pause();
    expect(router.health().status).toBe('paused');
    await publish('k', 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(handled).toEqual([1]);
    router.resume();
    await until(() => handled.length === 2);
    const health = router.health();
    expect(health).toMatchObject({ status: 'running', group, inFlight: 0 });
    expect(health.assignment.length).toBeGreaterThan(0);
  });
});

describe('tracing', () => {
  const exporter = new InMemorySpanExporter();
  const contextManager = new AsyncLocalStorageContextManager();
  beforeAll(() => {
    contextManager.enable();
    otelContext.setGlobalContextManager(contextManager);
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
    );
  });
  afterAll(() => {
    trace.disable();
    otelContext.disable();
  });

  /** A transport with the counter topic, a publisher and a router of group `<prefix>-<suffix>` on it. */
  const routerWith = async (suffix: string, options: Partial<RouterOptions> = {}) => {
    const opened = await testTransports[0]!.open();
    const { catalog, topic } = counterCatalogFor(opened.prefix);
    await opened.transport.ensureTopics([topic]);
    const { transport } = opened;
    const publisher = createPublisher({ transport, catalog, source: 'urn:test', logger: silent });
    const group = `${opened.prefix}-${suffix}`;
    const router = createRouter({
      transport,
      catalog,
      group,
      logger: silent,
      shutdownSignals: [],
      ...options,
    });
    const stored = async () => (await readTopic(transport, topic.name)).map((entry) => entry.event);
    return { opened, topic, group, publisher, router, stored };
  };

  it('runs handlers in a CONSUMER span that continues the trace of the event', async () => {
    const { opened, topic, group, publisher, router, stored: storedEvents } = await routerWith('t');
    let activeTraceId: string | undefined;
    router.on(CounterIncremented, async (event) => {
      if (event.data!.seq === 1) {
        // An event published inside a handler continues the correlation, the causation and the trace.
        await publisher.publish(CounterIncremented, { key: 'k', seq: 2 });
        activeTraceId = trace.getActiveSpan()?.spanContext().traceId;
      }
    });
    await router.start();
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const first = await publisher.publish(
      CounterIncremented,
      { key: 'k', seq: 1 },
      { traceparent, correlationId: 'req-1' },
    );
    await until(() => activeTraceId !== undefined);
    await router.close();
    const stored = await storedEvents();
    const caused = stored.find((e) => (e.data as { seq: number }).seq === 2)!;
    expect(caused).toMatchObject({ correlationid: 'req-1', causationid: first.id });
    await opened.close();
    const span = exporter.getFinishedSpans().find((s) => s.name === `process ${topic.name}`)!;
    expect(span.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(span.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(span.kind).toBe(4);
    expect(span.attributes).toMatchObject({
      'messaging.system': 'keel',
      'messaging.operation.type': 'process',
      'messaging.destination.name': topic.name,
      'messaging.consumer.group.name': group,
    });
    expect(activeTraceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(caused.traceparent).toBe(`00-0af7651916cd43dd8448eb211c80319c-${span.spanContext().spanId}-01`);
  });

  it('runs a batch call in one CONSUMER span that counts its events', async () => {
    const { opened, topic, publisher, router } = await routerWith('batch');
    let handled = 0;
    router.onBatch(
      CounterIncremented,
      (events) => {
        handled += events.length;
      },
      { maxEvents: 10, maxWaitMs: 20 },
    );
    await router.start();
    await publisher.publishMany(CounterIncremented, [
      { key: 'k', seq: 1 },
      { key: 'k', seq: 2 },
      { key: 'k', seq: 3 },
    ]);
    await until(() => handled === 3);
    await router.close();
    await opened.close();
    const spans = exporter.getFinishedSpans().filter((s) => s.name === `process ${topic.name}`);
    const counted = spans.map((s) => Number(s.attributes['messaging.batch.message_count']));
    expect(counted.reduce((sum, n) => sum + n, 0)).toBe(3);
  });

  it('makes no span with tracing: false, while correlation and causation still flow', async () => {
    const { opened, topic, publisher, router, stored } = await routerWith('untraced', { tracing: false });
    let caused: { id: string } | undefined;
    router.on(CounterIncremented, async (event) => {
      if (event.data!.seq === 1) caused = await publisher.publish(CounterIncremented, { key: 'k', seq: 2 });
    });
    await router.start();
    const first = await publisher.publish(
      CounterIncremented,
      { key: 'k', seq: 1 },
      { correlationId: 'req-2' },
    );
    await until(() => caused !== undefined);
    await router.close();
    expect((await stored()).find((e) => e.id === caused!.id)).toMatchObject({
      correlationid: 'req-2',
      causationid: first.id,
    });
    await opened.close();
    expect(exporter.getFinishedSpans().filter((s) => s.name === `process ${topic.name}`)).toEqual([]);
  });
});
