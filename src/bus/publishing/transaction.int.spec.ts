import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../events/errors.ts';
import { createEmbeddedTransport } from '../../transport/embedded/index.ts';
import { createPublisher } from '../publisher.ts';
import {
  AuditRecorded,
  publishingCatalog,
  readTopic,
  StepRecorded,
} from '../test-support/publishing-catalog.ts';
import { type PublishingTestTransport, publishingTargets } from '../test-support/publishing-transports.ts';
import { TransactionClosedError, TransactionsUnsupportedError } from './errors.ts';
import type { PublishTransaction } from './transaction.ts';

describe.each(publishingTargets)('publisher: transactions ($name)', (target) => {
  let opened: PublishingTestTransport;
  let names: ReturnType<typeof publishingCatalog>;

  beforeEach(async () => {
    opened = await target.open();
    names = publishingCatalog(opened.prefix);
    await opened.transport.ensureTopics(names.catalog.topics);
  });
  afterEach(async () => {
    await opened.close();
  });

  const stored = async () => ({
    steps: (await readTopic(opened.transport, names.steps.name)).map((s) => s.event),
    audits: (await readTopic(opened.transport, names.audits.name)).map((s) => s.event),
  });

  it('appends everything staged across topics at once, or refuses on a transport that cannot', async () => {
    const { transport } = opened;
    const publisher = createPublisher({ transport, catalog: names.catalog, source: 'urn:keel:test' });
    const work = async (tx: PublishTransaction) => {
      const first = await tx.publish(StepRecorded, { key: 'order-1', seq: 0 });
      tx.publishMany(StepRecorded, [
        { key: 'order-2', seq: 0 },
        { key: 'order-3', seq: 0 },
      ]);
      tx.publish(AuditRecorded, { key: 'order-1', note: 'placed' });
      return first.id;
    };
    if (!transport.capabilities.atomicMultiPartitionAppend) {
      await expect(publisher.transaction(work)).rejects.toBeInstanceOf(TransactionsUnsupportedError);
      expect(await stored()).toEqual({ steps: [], audits: [] });
      return;
    }
    const { value, receipts } = await publisher.transaction(work);
    expect(receipts).toHaveLength(4);
    expect(receipts[0]!.id).toBe(value);
    expect(receipts.map((r) => r.topic)).toEqual([
      names.steps.name,
      names.steps.name,
      names.steps.name,
      names.audits.name,
    ]);
    const { steps, audits } = await stored();
    expect(steps).toHaveLength(3);
    expect(audits).toHaveLength(1);
    expect(new Set([...steps, ...audits].map((e) => e.id))).toEqual(new Set(receipts.map((r) => r.id)));
    await publisher.close();
  });

  it('writes nothing when the callback throws, and stages nothing invalid', async () => {
    const { transport } = opened;
    const publisher = createPublisher({ transport, catalog: names.catalog, source: 'urn:keel:test' });
    if (!transport.capabilities.atomicMultiPartitionAppend) {
      await expect(publisher.transaction(() => {})).rejects.toBeInstanceOf(TransactionsUnsupportedError);
      return;
    }
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

describe('publisher: transactions on a transport without atomic multi-partition append', () => {
  it('are refused with a typed error before the callback runs', async () => {
    const embedded = createEmbeddedTransport({ path: ':memory:' });
    // The real embedded transport, declaring what a non-transactional Kafka producer would.
    const transport = {
      ...embedded,
      capabilities: { ...embedded.capabilities, atomicMultiPartitionAppend: false },
    };
    const names = publishingCatalog('plain');
    await transport.ensureTopics(names.catalog.topics);
    const publisher = createPublisher({ transport, catalog: names.catalog, source: 'urn:keel:test' });
    let ran = false;
    const error = await publisher
      .transaction(() => {
        ran = true;
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransactionsUnsupportedError);
    expect(error).toMatchObject({ code: 'KEEL_TRANSACTIONS_UNSUPPORTED', transport: 'embedded' });
    expect(ran).toBe(false);
    await publisher.close();
    await embedded.close();
  });
});
