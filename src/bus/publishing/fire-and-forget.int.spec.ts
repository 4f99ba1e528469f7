import { describe, expect, it } from 'vitest';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { ValidationError } from '../../events/errors.ts';
import { createMetrics } from '../../observability/metrics.ts';
import { UnknownTopicError } from '../../transport/errors.ts';
import { runInHandlingContext } from '../handling-context.ts';
import { createPublisher } from '../publisher.ts';
import { publishingCatalog, readTopic, StepRecorded, waitUntil } from '../test-support/publishing-catalog.ts';
import { publishingFixture, publishingTargets } from '../test-support/publishing-transports.ts';
import { PublisherClosedError, PublishUnavailableError } from './errors.ts';

describe.each(publishingTargets)('publisher: fire-and-forget and envelope propagation ($name)', (target) => {
  const given = publishingFixture(target);

  it('emit returns at once, validates synchronously and delivers in the background', async () => {
    const { transport } = given.opened;
    const publisher = createPublisher({ transport, catalog: given.names.catalog, source: 'urn:keel:test' });
    expect(() => publisher.emit(StepRecorded, { key: 'a', seq: -1 })).toThrow(ValidationError);
    const returned = publisher.emit(StepRecorded, { key: 'a', seq: 0 });
    expect(returned).toBeUndefined();
    publisher.emit(StepRecorded, { key: 'a', seq: 1 });
    await waitUntil(
      'both emitted events are stored',
      async () => (await readTopic(transport, given.names.steps.name)).length === 2,
      5_000,
    );
    const stored = await readTopic(transport, given.names.steps.name);
    expect(stored.map((s) => (s.event.data as { seq: number }).seq)).toEqual([0, 1]);
    await publisher.close();
    expect(() => publisher.emit(StepRecorded, { key: 'a', seq: 2 })).toThrow(PublisherClosedError);
  });

  it('emit reports append failures to onError and the metrics, never as an unhandled rejection', async () => {
    const { transport } = given.opened;
    const metrics = createMetrics();
    const failures: Array<{ error: unknown; event: CloudEvent }> = [];
    // A topic the transport does not have: a real, non-retryable append failure.
    const missing = publishingCatalog(`${given.opened.prefix}-missing`);
    const publisher = createPublisher({
      transport,
      catalog: missing.catalog,
      source: 'urn:keel:test',
      metrics,
      onError: (error, event) => failures.push({ error, event }),
    });
    publisher.emit(StepRecorded, { key: 'a', seq: 0 });
    await waitUntil('onError was called', () => failures.length === 1, 5_000);
    expect(failures[0]!.error).toBeInstanceOf(UnknownTopicError);
    expect(failures[0]!.event).toMatchObject({ type: 'test.step.recorded', data: { key: 'a', seq: 0 } });
    expect(await metrics.registry.getSingleMetricAsString('keel_event_publish_errors_total')).toMatch(
      /type="test.step.recorded",reason="KEEL_TRANSPORT_UNKNOWN_TOPIC"} 1/,
    );

    // The transport down and no buffer: the retries run out and onError hears of it. On Kafka the outage
    // pattern is proved by outage.int.spec.ts; a second full cluster restart here would add 15-20 s.
    if (target.slowOutages) return;
    const unbuffered = createPublisher({
      transport,
      catalog: given.names.catalog,
      source: 'urn:keel:test',
      metrics,
      retry: { attempts: 2, initialDelayMs: 10, maxDelayMs: 20 },
      onError: (error, event) => failures.push({ error, event }),
    });
    const outage = await given.opened.startOutage();
    try {
      unbuffered.emit(StepRecorded, { key: 'b', seq: 0 });
      await waitUntil('onError was called for the outage', () => failures.length === 2, 10_000);
    } finally {
      await outage.end();
    }
    expect(failures[1]!.error).toBeInstanceOf(PublishUnavailableError);
    expect(failures[1]!.error).toMatchObject({ reason: 'retries-exhausted', attempts: 2 });
    expect(await metrics.registry.getSingleMetricAsString('keel_event_publish_errors_total')).toMatch(
      /reason="KEEL_PUBLISH_UNAVAILABLE"} 1/,
    );
    await Promise.all([publisher.close(), unbuffered.close()]);
  });

  it('events published while handling one inherit its correlation, causation and tenant', async () => {
    const { transport } = given.opened;
    const publisher = createPublisher({ transport, catalog: given.names.catalog, source: 'urn:keel:test' });
    const handled: CloudEvent = {
      specversion: '1.0',
      id: 'handled-1',
      source: 'urn:keel:upstream',
      type: 'test.upstream',
      correlationid: 'request-42',
      tenantid: 'hospital-7',
    };
    const firstOfChain: CloudEvent = {
      specversion: '1.0',
      id: 'first-1',
      source: 'urn:keel:upstream',
      type: 'test.upstream',
    };

    await runInHandlingContext({ event: handled, group: 'g' }, async () => {
      await publisher.publish(StepRecorded, { key: 'a', seq: 0 });
      await publisher.publishMany(StepRecorded, [{ key: 'a', seq: 1 }]);
      // Asynchronous hops keep the context: the caller's own options still win.
      await new Promise((resolve) => setTimeout(resolve, 1));
      publisher.emit(StepRecorded, { key: 'a', seq: 2 }, { correlationId: 'own', tenantId: 'other' });
      await publisher.transaction((tx) => {
        tx.publish(StepRecorded, { key: 'a', seq: 3 });
      });
    });
    await runInHandlingContext({ event: firstOfChain, group: 'g' }, () =>
      publisher.publish(StepRecorded, { key: 'a', seq: 4 }),
    );
    await publisher.publish(StepRecorded, { key: 'a', seq: 5 });

    await waitUntil(
      'all six are stored',
      async () => (await readTopic(transport, given.names.steps.name)).length === 6,
      5_000,
    );
    const bySeq = new Map(
      (await readTopic(transport, given.names.steps.name)).map((s) => [
        (s.event.data as { seq: number }).seq,
        s.event,
      ]),
    );
    for (const seq of [0, 1, 3]) {
      expect(bySeq.get(seq)).toMatchObject({
        correlationid: 'request-42',
        causationid: 'handled-1',
        tenantid: 'hospital-7',
      });
    }
    expect(bySeq.get(2)).toMatchObject({ correlationid: 'own', causationid: 'handled-1', tenantid: 'other' });
    // A handled event without a correlation id starts one: its own id.
    expect(bySeq.get(4)).toMatchObject({ correlationid: 'first-1', causationid: 'first-1' });
    expect(bySeq.get(4)!.tenantid).toBeUndefined();
    expect(bySeq.get(5)!.correlationid).toBeUndefined();
    expect(bySeq.get(5)!.causationid).toBeUndefined();
    await publisher.close();
  });
});
