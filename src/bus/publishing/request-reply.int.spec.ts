import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { ValidationError } from '../../events/errors.ts';
import { partitionForKey } from '../../transport/partitioner.ts';
import { createPublisher } from '../publisher.ts';
import { createRouter } from '../router.ts';
import type { Router } from '../router-port.ts';
import {
  publishingCatalog,
  QuoteGiven,
  QuoteRequested,
  readTopic,
  StepRecorded,
} from '../test-support/publishing-catalog.ts';
import { type PublishingTestTransport, publishingTargets } from '../test-support/publishing-transports.ts';
import { NotARequestError, PublisherClosedError, RemoteError, RequestTimeoutError } from './errors.ts';
import { createReplier, DEFAULT_REPLY_TOPIC, REPLY_TOPIC_PARTITIONS } from './request-reply.ts';

class OutOfStockError extends Error {
  readonly code = 'SHOP_OUT_OF_STOCK';
  constructor(item: string) {
    super(`${item} is out of stock`);
    this.name = 'OutOfStockError';
  }
}

describe.each(publishingTargets)('publisher: request-reply ($name)', (target) => {
  let opened: PublishingTestTransport;
  let names: ReturnType<typeof publishingCatalog>;
  const closers: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    opened = await target.open();
    names = publishingCatalog(opened.prefix);
    await opened.transport.ensureTopics(names.catalog.topics);
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await opened.close();
  });

  const requester = () => {
    const publisher = createPublisher({
      transport: opened.transport,
      catalog: names.catalog,
      source: 'urn:keel:shop',
    });
    closers.push(() => publisher.close());
    return publisher;
  };

  // The responding service: a router handling quote requests, answering through a replier.
  const startResponder = async (): Promise<{ router: Router; seen: CloudEvent[] }> => {
    const publisher = createPublisher({
      transport: opened.transport,
      catalog: names.catalog,
      source: 'urn:keel:pricing',
    });
    const replier = createReplier({ publisher });
    const seen: CloudEvent[] = [];
    const router = createRouter({
      transport: opened.transport,
      catalog: names.catalog,
      group: `${opened.prefix}.pricing`,
      logger: pino({ level: 'silent' }),
      shutdownSignals: [],
    });
    router.on(QuoteRequested, async (event) => {
      seen.push(event);
      const { item, quantity } = event.data!;
      if (item === 'unobtainium') await replier.replyError(event, new OutOfStockError(item));
      else await replier.reply(event, QuoteGiven, { item, total: quantity * 2.5 });
    });
    await router.start();
    closers.push(async () => {
      await router.close();
      await publisher.close();
    });
    return { router, seen };
  };

  it('resolves with the reply to its own request, matched by inreplyto, keeping the correlation', async () => {
    await startResponder();
    const publisher = requester();
    const reply = await publisher.request(
      QuoteRequested,
      { item: 'bolt', quantity: 4 },
      {
        reply: QuoteGiven,
        replyTopic: names.replyTopic,
        timeoutMs: 10_000,
        correlationId: 'basket-9',
        tenantId: 'shop-1',
      },
    );
    expect(reply.data).toEqual({ item: 'bolt', total: 10 });
    const [request] = (await readTopic(opened.transport, names.quotes.name)).map((s) => s.event);
    expect(request).toMatchObject({ replyto: names.replyTopic, correlationid: 'basket-9' });
    expect(reply).toMatchObject({
      type: 'test.quote.given',
      source: 'urn:keel:pricing',
      inreplyto: request!.id,
      correlationid: 'basket-9',
      causationid: request!.id,
      tenantid: 'shop-1',
      partitionkey: request!.id,
    });
    const [stored] = await readTopic(opened.transport, names.replyTopic);
    expect(stored!.partition).toBe(partitionForKey(request!.id, REPLY_TOPIC_PARTITIONS));
    expect((await opened.transport.describeTopic(names.replyTopic))?.partitions).toBe(REPLY_TOPIC_PARTITIONS);
  });

  it('serves many concurrent requests from two requesters sharing the reply topic', async () => {
    await startResponder();
    const [a, b] = [requester(), requester()];
    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, n) =>
        (n % 2 === 0 ? a : b).request(
          QuoteRequested,
          { item: `item-${n}`, quantity: n + 1 },
          { reply: QuoteGiven, replyTopic: names.replyTopic, timeoutMs: 15_000 },
        ),
      ),
    );
    expect(replies.map((r) => r.data)).toEqual(
      Array.from({ length: 40 }, (_, n) => ({ item: `item-${n}`, total: (n + 1) * 2.5 })),
    );
  });

  it('rejects with a RemoteError on an error reply, and with RequestTimeoutError when nobody answers', async () => {
    const publisher = requester();
    const started = performance.now();
    const silent = await publisher
      .request(
        QuoteRequested,
        { item: 'bolt', quantity: 1 },
        { replyTopic: names.replyTopic, timeoutMs: 400 },
      )
      .catch((e: unknown) => e);
    expect(silent).toBeInstanceOf(RequestTimeoutError);
    expect(silent).toMatchObject({
      code: 'KEEL_REQUEST_TIMEOUT',
      timeoutMs: 400,
      replyTopic: names.replyTopic,
    });
    expect(performance.now() - started).toBeGreaterThanOrEqual(390);

    await startResponder();
    const failed = await publisher
      .request(
        QuoteRequested,
        { item: 'unobtainium', quantity: 1 },
        { replyTopic: names.replyTopic, timeoutMs: 10_000 },
      )
      .catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(RemoteError);
    expect(failed).toMatchObject({
      code: 'KEEL_REMOTE_ERROR',
      remoteName: 'OutOfStockError',
      remoteCode: 'SHOP_OUT_OF_STOCK',
      requestType: 'test.quote.requested',
    });
    expect((failed as RemoteError).message).toMatch(/unobtainium is out of stock/);
    expect((failed as RemoteError).reply.type).toBe('keel.reply.error');

    // A reply of another type than the one expected is refused, not handed over unchecked.
    const mismatched = await publisher
      .request(
        QuoteRequested,
        { item: 'nut', quantity: 1 },
        { reply: StepRecorded, replyTopic: names.replyTopic, timeoutMs: 10_000 },
      )
      .catch((e: unknown) => e);
    expect(mismatched).toBeInstanceOf(ValidationError);
  });

  it('uses keel.replies by default, refuses replies to non-requests, and close() rejects waiting requests', async () => {
    const { router, seen } = await startResponder();
    const publisher = requester();
    const reply = await publisher.request(
      QuoteRequested,
      { item: 'washer', quantity: 2 },
      { timeoutMs: 10_000 },
    );
    expect(reply.data).toEqual({ item: 'washer', total: 5 });
    expect((await opened.transport.describeTopic(DEFAULT_REPLY_TOPIC))?.partitions).toBe(
      REPLY_TOPIC_PARTITIONS,
    );

    const replier = createReplier({ publisher });
    const plain = { ...seen[0]!, replyto: undefined };
    delete plain.replyto;
    await expect(replier.reply(plain, QuoteGiven, { item: 'x', total: 1 })).rejects.toBeInstanceOf(
      NotARequestError,
    );

    await router.close();
    const waiting = publisher.request(
      QuoteRequested,
      { item: 'unanswered', quantity: 1 },
      { replyTopic: `${names.replyTopic}-none`, timeoutMs: 30_000 },
    );
    const outcome = waiting.catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await publisher.close();
    expect(await outcome).toBeInstanceOf(PublisherClosedError);
    await expect(publisher.request(QuoteRequested, { item: 'late', quantity: 1 })).rejects.toBeInstanceOf(
      PublisherClosedError,
    );
  });
});
