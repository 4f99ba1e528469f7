import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../events/errors.ts';
import { createPublisher } from '../publisher.ts';
import type { PublishTransaction } from '../publisher-port.ts';
import { AuditRecorded, readTopic, StepRecorded } from '../test-support/publishing-catalog.ts';
import { publishingFixture, publishingTargets } from '../test-support/publishing-transports.ts';
import { TransactionClosedError } from './errors.ts';

describe.each(publishingTargets)('publisher: transactions ($name)', (target) => {
  const given = publishingFixture(target);

  const stored = async () => ({
    steps: (await readTopic(given.opened.transport, given.names.steps.name)).map((s) => s.event),
    audits: (await readTopic(given.opened.transport, given.names.audits.name)).map((s) => s.event),
  });

  it('appends everything staged across topics at once', async () => {
    const { transport } = given.opened;
    const publisher = createPublisher({ transport, catalog: given.names.catalog, source: 'urn:keel:test' });
    const work = async (tx: PublishTransaction) => {
      const first = await tx.publish(StepRecorded, { key: 'order-1', seq: 0 });
      tx.publishMany(StepRecorded, [
        { key: 'order-2', seq: 0 },
        { key: 'order-3', seq: 0 },
      ]);
      tx.publish(AuditRecorded, { key: 'order-1', note: 'placed' });
      return first.id;
    };
    const { value, receipts } = await publisher.transaction(work);
    expect(receipts).toHaveLength(4);
    expect(receipts[0]!.id).toBe(value);
    expect(receipts.map((r) => r.topic)).toEqual([
      given.names.steps.name,
      given.names.steps.name,
      given.names.steps.name,
      given.names.audits.name,
    ]);
    const { steps, audits } = await stored();
    expect(steps).toHaveLength(3);
    expect(audits).toHaveLength(1);
    expect(new Set([...steps, ...audits].map((e) => e.id))).toEqual(new Set(receipts.map((r) => r.id)));
    await publisher.close();
  });

  it('concurrent transactions and plain publishes each land whole, at the offsets their receipts give', async () => {
    const { transport } = given.opened;
    const publisher = createPublisher({ transport, catalog: given.names.catalog, source: 'urn:keel:test' });
    const transactions = Array.from({ length: 12 }, (_, i) =>
      publisher.transaction((tx) => {
        tx.publish(StepRecorded, { key: `order-${i}`, seq: 0 });
        tx.publish(StepRecorded, { key: `order-${i}`, seq: 1 });
        tx.publish(AuditRecorded, { key: `order-${i}`, note: `tx ${i}` });
        return i;
      }),
    );
    const plain = Array.from({ length: 12 }, (_, i) =>
      publisher.publish(StepRecorded, { key: `p-${i}`, seq: 0 }),
    );
    const [committed, published] = await Promise.all([Promise.all(transactions), Promise.all(plain)]);
    const receipts = [...committed.flatMap((c) => c.receipts), ...published];
    expect(committed.map((c) => c.value)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    const at = new Map<string, string>();
    for (const topic of [given.names.steps.name, given.names.audits.name])
      for (const s of await readTopic(transport, topic))
        at.set(`${topic}/${s.partition}@${s.offset}`, s.event.id);
    expect(at.size).toBe(48);
    for (const receipt of receipts) {
      expect(at.get(`${receipt.topic}/${receipt.partition}@${receipt.offset}`)).toBe(receipt.id);
    }
    await publisher.close();
  });

  it('writes nothing when the callback throws, and stages nothing invalid', async () => {
    const { transport } = given.opened;
    const publisher = createPublisher({ transport, catalog: given.names.catalog, source: 'urn:keel:test' });
    let leaked: PublishTransaction | undefined;
    const failed = await publisher
      .transaction(async (tx) => {
        leaked = tx;
        tx.publish(StepRecorded, { key: 'a', seq: 0 });
        tx.publish(AuditRecorded, { key: 'a', note: 'x' });
        await new Promise((resolve) => setTimeout(resolve, 5));
        throw new Error('business rule broken');
      })
      .catch((e: unknown) => e);
    expect((failed as Error).message).toBe('business rule broken');
    expect(await stored()).toEqual({ steps: [], audits: [] });
    // Staging after the callback is over is refused, not silently lost.
    expect(() => leaked!.publish(StepRecorded, { key: 'a', seq: 1 })).toThrow(TransactionClosedError);

    // Invalid data throws at the staging call; the callback may catch it and go on.
    const { receipts } = await publisher.transaction((tx) => {
      expect(() => tx.publish(StepRecorded, { key: 'a', seq: -5 })).toThrow(ValidationError);
      expect(() =>
        tx.publishMany(StepRecorded, [
          { key: 'a', seq: 1 },
          { key: '', seq: 2 },
        ]),
      ).toThrow(ValidationError);
      tx.publish(StepRecorded, { key: 'a', seq: 3 });
    });
    expect(receipts).toHaveLength(1);
    expect((await stored()).steps.map((e) => e.data)).toEqual([{ key: 'a', seq: 3 }]);
    // An empty transaction appends nothing.
    expect((await publisher.transaction(() => 'nothing')).receipts).toEqual([]);
    await publisher.close();
  });
});
