import { describe, expect, it } from 'vitest';
import { createPublisher } from '../publisher.ts';
import { readTopic, StepRecorded } from '../test-support/publishing-catalog.ts';
import { publishingFixture, publishingTargets } from '../test-support/publishing-transports.ts';
import { PublisherOptionsError } from './errors.ts';

describe.each(publishingTargets)('publisher: linger batching ($name)', (target) => {
  const given = publishingFixture(target);

  it('coalesces publishes made within the window into one append, each with its own receipt', async () => {
    const { transport } = given.opened;
    const publisher = createPublisher({
      transport,
      catalog: given.names.catalog,
      source: 'urn:keel:test',
      linger: { ms: 50, maxEvents: 1000 },
    });
    const started = performance.now();
    const receipts = await Promise.all(
      Array.from({ length: 60 }, (_, seq) => publisher.publish(StepRecorded, { key: `k${seq % 4}`, seq })),
    );
    // Nothing went out before the linger time: one append, after it.
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
    expect(new Set(receipts.map((r) => r.id)).size).toBe(60);
    const stored = await readTopic(transport, given.names.steps.name);
    expect(stored).toHaveLength(60);
    // The transport stamps one time per append: all sixty share it.
    const stamps = new Set<number>();
    for (const receipt of receipts) {
      const [record] = await transport.read(receipt.topic, receipt.partition, receipt.offset, 1);
      expect(record!.headers.ce_id).toBe(receipt.id);
      stamps.add(record!.timestamp);
    }
    expect(stamps.size).toBe(1);
    // Per key, offsets follow call order.
    for (let k = 0; k < 4; k++) {
      const seqs = stored
        .filter((s) => (s.event.data as { key: string }).key === `k${k}`)
        .map((s) => (s.event.data as { seq: number }).seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    await publisher.close();
  });

  it('sends a full batch without waiting for the linger time', async () => {
    const publisher = createPublisher({
      transport: given.opened.transport,
      catalog: given.names.catalog,
      source: 'urn:keel:test',
      linger: { ms: 60_000, maxEvents: 10 },
    });
    const started = performance.now();
    const receipts = await Promise.all(
      Array.from({ length: 10 }, (_, seq) => publisher.publish(StepRecorded, { key: 'k', seq })),
    );
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(receipts.map((r) => r.offset)).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(i)));
    // close() sends what is still lingering instead of waiting out the minute.
    const lingering = publisher.publish(StepRecorded, { key: 'k', seq: 10 });
    await publisher.close();
    expect((await lingering).offset).toBe(10n);
  });

  it('refuses a bad name or event size limit, naming the key', () => {
    const make = (options: { name?: string; maxEventBytes?: number }) => () =>
      createPublisher({
        transport: given.opened.transport,
        catalog: given.names.catalog,
        source: 'urn:keel:test',
        ...options,
      });
    expect(make({ maxEventBytes: 0 })).toThrow(/publisher\.maxEventBytes: /);
    expect(make({ maxEventBytes: 1.5 })).toThrow(PublisherOptionsError);
    expect(make({ name: '' })).toThrow(/publisher\.name: /);
  });

  it('refuses bad linger options, naming the key', () => {
    expect(() =>
      createPublisher({
        transport: given.opened.transport,
        catalog: given.names.catalog,
        source: 'urn:keel:test',
        linger: { ms: -1, maxEvents: 0 },
      }),
    ).toThrow(PublisherOptionsError);
    expect(() =>
      createPublisher({
        transport: given.opened.transport,
        catalog: given.names.catalog,
        source: 'urn:keel:test',
        linger: { ms: -1 },
      }),
    ).toThrow(/linger\.ms: /);
  });
});
