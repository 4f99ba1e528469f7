import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createMetrics, type KeelMetrics } from '../../observability/metrics.ts';
import { createPublisher } from '../publisher.ts';
import type { AnyPublishReceipt, Publisher } from '../publisher-port.ts';
import {
  AuditRecorded,
  readTopic,
  StepRecorded,
  sleep,
  waitUntil,
} from '../test-support/publishing-catalog.ts';
import { publishingFixture, publishingTargets } from '../test-support/publishing-transports.ts';
import { BufferFullError, PublishUnavailableError } from './errors.ts';
import { openLocalBuffer } from './local-buffer.ts';

// Real outages: on the embedded transport another process holds the SQLite write lock, so every
// append fails with SQLITE_BUSY after the transport's 100 ms busy timeout, until it lets go; on Kafka
// all three brokers are stopped, so appends fail after the test transport's 2 s delivery timeout.
describe.each(publishingTargets)('publisher: retry, circuit breaker and local buffer ($name)', (target) => {
  const given = publishingFixture(target);

  const gauge = async (metrics: KeelMetrics, metric: string, name: string): Promise<number> => {
    const text = await metrics.registry.getSingleMetricAsString(metric);
    const match = new RegExp(`${metric}\\{name="${name}"} (\\d+)`).exec(text);
    return match ? Number(match[1]) : Number.NaN;
  };

  // Per key, the seqs stored in partition order: exactly 0..n-1 means in order, none lost, none twice.
  const storedSeqs = async (): Promise<Map<string, number[]>> => {
    const seqs = new Map<string, number[]>();
    for (const { event } of await readTopic(given.opened.transport, given.names.steps.name)) {
      const { key, seq } = event.data as { key: string; seq: number };
      seqs.set(key, [...(seqs.get(key) ?? []), seq]);
    }
    return seqs;
  };
  const upTo = (n: number) => Array.from({ length: n }, (_, i) => i);

  it('buffers what is published while the transport is down and delivers it in order afterwards', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const metrics = createMetrics();
    const publisher = createPublisher({
      transport: given.opened.transport,
      catalog: given.names.catalog,
      source: 'urn:keel:test',
      name: 'outage',
      metrics,
      logger,
      retry: { attempts: 2, initialDelayMs: 20, maxDelayMs: 200 },
      breaker: { threshold: 3, halfOpenAfterMs: 300 },
      buffer: { path: join(given.opened.dir, 'publish-buffer.db') },
    });
    const keys = ['a', 'b', 'c', 'd'];
    const next = new Map(keys.map((key) => [key, 0]));
    const take = (key: string) => {
      const seq = next.get(key)!;
      next.set(key, seq + 1);
      return seq;
    };
    const round = () =>
      Promise.all(keys.map((key) => publisher.publish(StepRecorded, { key, seq: take(key) })));
    const receipts: AnyPublishReceipt[] = [];

    for (let i = 0; i < 3; i++) receipts.push(...(await round()));
    expect(receipts.every((r) => !r.buffered)).toBe(true);

    const outage = await given.opened.startOutage();
    const lockedAt = Date.now();
    // Publishes in flight together when the transport fails keep their call order through the retries.
    const burst = await Promise.all(
      Array.from({ length: 5 }, () => publisher.publish(StepRecorded, { key: 'a', seq: take('a') })),
    );
    // A transaction during the outage is buffered as one group and appended all-or-nothing when it is back.
    const tx = await publisher.transaction((t) => {
      t.publish(StepRecorded, { key: 'b', seq: take('b') });
      t.publish(AuditRecorded, { key: 'b', note: 'during the outage' });
    });
    const during = [...burst, ...tx.receipts];
    // On Kafka the brokers stay down for 10 s (the broker-down proof of the reliable-processing issue).
    const outageMs = target.name === 'kafka' ? 10_000 : 3_000;
    while (Date.now() - lockedAt < outageMs) {
      during.push(...(await round()));
      await sleep(25);
    }
    expect(during.every((r) => r.buffered)).toBe(true);
    expect(await gauge(metrics, 'keel_circuit_breaker_state', 'outage')).toBeGreaterThan(0);
    expect(await gauge(metrics, 'keel_publish_buffer_events', 'outage')).toBe(during.length);
    // Nothing can be read from stopped brokers: on Kafka the final check alone shows nothing went early.
    if (target.name === 'embedded') expect((await storedSeqs()).get('a')).toEqual(upTo(3));

    await outage.end();
    // While the buffer still holds events, new publishes queue behind them.
    const after: AnyPublishReceipt[] = [];
    for (let i = 0; i < 3; i++) after.push(...(await round()));
    await waitUntil(
      'the buffer is flushed',
      async () => (await gauge(metrics, 'keel_publish_buffer_events', 'outage')) === 0,
      10_000,
    );
    const direct = await round();
    expect(direct.every((r) => !r.buffered && typeof r.offset === 'bigint')).toBe(true);
    await publisher.close();

    const seqs = await storedSeqs();
    // At least once: an append that timed out while the brokers stopped may have been written before the
    // publisher sent it again (README, "What the producer guarantees"); a copy then follows its original at once.
    const once = (list: number[] | undefined) => list?.filter((seq, i) => seq !== list[i - 1]);
    for (const key of keys) expect(once(seqs.get(key))).toEqual(upTo(next.get(key)!));
    const stored = await readTopic(given.opened.transport, given.names.steps.name);
    const published = [...receipts, ...during, ...after, ...direct].filter(
      (r) => r.topic === given.names.steps.name,
    );
    // Every event stored, copies (see above) only of the few appends caught by the brokers stopping.
    expect(stored.length - published.length).toBeLessThanOrEqual(5);
    expect(new Set(stored.map((s) => s.event.id))).toEqual(new Set(published.map((r) => r.id)));
    expect((await readTopic(given.opened.transport, given.names.audits.name)).map((s) => s.event.id)).toEqual(
      [tx.receipts[1]!.id],
    );
    expect(await gauge(metrics, 'keel_circuit_breaker_state', 'outage')).toBe(0);
    const messages = lines.map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages).toContain('publisher circuit breaker open: the transport keeps failing');
    expect(messages).toContain('publisher circuit breaker closed');
    expect(messages).toContain('publish buffer: flushed');
  });

  // Variations of the pattern, on transports where an outage is cheap (see slowOutages).
  if (!target.slowOutages) {
    it('fails a publish the full buffer cannot take with BufferFullError, never dropping it silently', async () => {
      const metrics = createMetrics();
      const failures: unknown[] = [];
      const publisher = createPublisher({
        transport: given.opened.transport,
        catalog: given.names.catalog,
        source: 'urn:keel:test',
        name: 'full',
        metrics,
        logger: pino({ level: 'silent' }),
        retry: { attempts: 1, initialDelayMs: 10, maxDelayMs: 100 },
        breaker: { threshold: 1, halfOpenAfterMs: 200 },
        buffer: { path: join(given.opened.dir, 'publish-buffer.db'), maxEvents: 5 },
        onError: (error) => failures.push(error),
      });
      const outage = await given.opened.startOutage();
      try {
        for (let seq = 0; seq < 5; seq++) {
          expect((await publisher.publish(StepRecorded, { key: 'k', seq })).buffered).toBe(true);
        }
        const refused = await publisher.publish(StepRecorded, { key: 'k', seq: 5 }).catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(BufferFullError);
        expect(refused).toMatchObject({
          code: 'KEEL_PUBLISH_BUFFER_FULL',
          events: 5,
          maxEvents: 5,
          refusedEvents: 1,
        });
        publisher.emit(StepRecorded, { key: 'k', seq: 5 });
        await waitUntil('onError heard of the full buffer', () => failures.length === 1, 5_000);
        expect(failures[0]).toBeInstanceOf(BufferFullError);
        expect(await metrics.registry.getSingleMetricAsString('keel_event_publish_errors_total')).toMatch(
          /reason="KEEL_PUBLISH_BUFFER_FULL"} 2/,
        );
      } finally {
        await outage.end();
      }
      await waitUntil(
        'the buffer is flushed',
        async () => (await gauge(metrics, 'keel_publish_buffer_events', 'full')) === 0,
        10_000,
      );
      expect((await publisher.publish(StepRecorded, { key: 'k', seq: 5 })).buffered).toBeFalsy();
      expect((await storedSeqs()).get('k')).toEqual(upTo(6));
      await publisher.close();
    });

    it('leaves on disk what close() cannot flush, and a restarted publisher sends it first', async () => {
      const path = join(given.opened.dir, 'publish-buffer.db');
      const options = {
        transport: given.opened.transport,
        catalog: given.names.catalog,
        source: 'urn:keel:test',
        logger: pino({ level: 'silent' }),
        retry: { attempts: 1, initialDelayMs: 10, maxDelayMs: 100 },
        breaker: { threshold: 1, halfOpenAfterMs: 100 },
        buffer: { path },
      };
      const first = createPublisher(options);
      const outage = await given.opened.startOutage();
      try {
        for (let seq = 0; seq < 10; seq++) await first.publish(StepRecorded, { key: 'r', seq });
        const closing = performance.now();
        await first.close(300);
        expect(performance.now() - closing).toBeLessThan(2_000);
      } finally {
        await outage.end();
      }
      const left = openLocalBuffer({ path }, { name: 'check', metrics: undefined });
      expect(left.count()).toBe(10);
      left.close();
      expect(await storedSeqs()).toEqual(new Map());

      const metrics = createMetrics();
      const second: Publisher<AnyPublishReceipt> = createPublisher({
        ...options,
        metrics,
        name: 'restarted',
      });
      await second.publish(StepRecorded, { key: 'r', seq: 10 });
      await second.publish(StepRecorded, { key: 'r', seq: 11 });
      await waitUntil(
        'the buffer is flushed',
        async () => (await gauge(metrics, 'keel_publish_buffer_events', 'restarted')) === 0,
        10_000,
      );
      await second.close();
      expect((await storedSeqs()).get('r')).toEqual(upTo(12));
    });

    it('rides out a short outage with retries, keeping concurrent publishes in call order', async () => {
      const publisher = createPublisher({
        transport: given.opened.transport,
        catalog: given.names.catalog,
        source: 'urn:keel:test',
        logger: pino({ level: 'silent' }),
        retry: { attempts: 20, initialDelayMs: 30, maxDelayMs: 100 },
        breaker: { threshold: 100, halfOpenAfterMs: 100 },
      });
      const outage = await given.opened.startOutage();
      const inFlight = Array.from({ length: 10 }, (_, seq) =>
        publisher.publish(StepRecorded, { key: 'q', seq }),
      );
      await sleep(400);
      await outage.end();
      const receipts = await Promise.all(inFlight);
      const offsets = receipts.map((r) => r.offset);
      expect(offsets).toEqual([...offsets].sort((a, b) => (a < b ? -1 : 1)));
      expect((await storedSeqs()).get('q')).toEqual(upTo(10));
      await publisher.close();
    });

    it('without a buffer: retries, then fails with PublishUnavailableError; the open breaker fails fast', async () => {
      const metrics = createMetrics();
      const publisher = createPublisher({
        transport: given.opened.transport,
        catalog: given.names.catalog,
        source: 'urn:keel:test',
        name: 'unbuffered',
        metrics,
        logger: pino({ level: 'silent' }),
        retry: { attempts: 3, initialDelayMs: 20, maxDelayMs: 50 },
        breaker: { threshold: 4, halfOpenAfterMs: 500 },
      });
      const outage = await given.opened.startOutage();
      try {
        const exhausted = await publisher
          .publish(StepRecorded, { key: 'u', seq: 0 })
          .catch((e: unknown) => e);
        expect(exhausted).toBeInstanceOf(PublishUnavailableError);
        expect(exhausted).toMatchObject({ reason: 'retries-exhausted', attempts: 3 });
        // The transport's own failure: SQLite's lock timeout, or Kafka's client giving up on the brokers.
        if (target.name === 'embedded')
          expect((exhausted as Error).cause).toMatchObject({ code: 'SQLITE_BUSY' });
        else expect((exhausted as Error).cause).toBeInstanceOf(Error);
        // The fourth consecutive failure opens the breaker: this publish's retry is refused by it.
        const opening = await publisher.publish(StepRecorded, { key: 'u', seq: 0 }).catch((e: unknown) => e);
        expect(opening).toMatchObject({ reason: 'circuit-open', attempts: 1 });
        expect(await gauge(metrics, 'keel_circuit_breaker_state', 'unbuffered')).toBe(1);
        const started = performance.now();
        const fast = await publisher.publish(StepRecorded, { key: 'u', seq: 0 }).catch((e: unknown) => e);
        expect(fast).toMatchObject({ code: 'KEEL_PUBLISH_UNAVAILABLE', reason: 'circuit-open', attempts: 0 });
        expect(performance.now() - started).toBeLessThan(50);
      } finally {
        await outage.end();
      }
      await sleep(550);
      const receipt = await publisher.publish(StepRecorded, { key: 'u', seq: 0 });
      expect(receipt.offset).toBe(0n);
      expect(await gauge(metrics, 'keel_circuit_breaker_state', 'unbuffered')).toBe(0);
      expect((await storedSeqs()).get('u')).toEqual([0]);
      await publisher.close();
    });
  }
});
