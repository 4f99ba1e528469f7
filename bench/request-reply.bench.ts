import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { z } from 'zod';
import { createPublisher } from '../src/bus/publisher.ts';
import { createReplier } from '../src/bus/publishing/request-reply.ts';
import { createRouter } from '../src/bus/router.ts';
import { createCatalog } from '../src/events/catalog.ts';
import { defineEvent } from '../src/events/define-event.ts';
import { defineTopic } from '../src/events/define-topic.ts';
import { createEmbeddedTransport } from '../src/transport/embedded/index.ts';
import { type BenchResult, percentile } from './stats.ts';

const PriceRequested = defineEvent({
  type: 'bench.price.requested',
  version: 1,
  schema: z.object({ item: z.string(), quantity: z.number().int() }),
  partitionKey: (data) => data.item,
});
const PriceQuoted = defineEvent({
  type: 'bench.price.quoted',
  version: 1,
  schema: z.object({ item: z.string(), total: z.number() }),
});
const PriceRequests = defineTopic({ name: 'bench.price-requests', partitions: 12, events: [PriceRequested] });
const catalog = createCatalog({ topics: [PriceRequests], events: [PriceQuoted] });
const silent = pino({ level: 'silent' });

/**
 * Request-reply round trips on the embedded transport (`synchronous=full`), requester and responder
 * (a Router answering through a replier) in one process: throughput with 32 requests in flight, and
 * latency percentiles with 1 and with 32 in flight.
 */
export async function requestReply(seconds = 5): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-bench-rr-'));
  const transport = createEmbeddedTransport({ path: join(dir, 'keel.db'), logger: silent });
  await transport.ensureTopics([PriceRequests]);
  const responderPublisher = createPublisher({
    transport,
    catalog,
    source: 'urn:keel:bench:pricing',
    logger: silent,
  });
  const replier = createReplier({ publisher: responderPublisher });
  const router = createRouter({
    transport,
    catalog,
    group: 'bench-pricing',
    logger: silent,
    shutdownSignals: [],
  });
  router.on(PriceRequested, async (event) => {
    await replier.reply(event, PriceQuoted, { item: event.data!.item, total: event.data!.quantity * 3 });
  });
  await router.start();
  const requester = createPublisher({ transport, catalog, source: 'urn:keel:bench:shop', logger: silent });

  let seq = 0;
  const run = async (inFlight: number, durationMs: number) => {
    const latencies: number[] = [];
    const until = performance.now() + durationMs;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (performance.now() < until) {
          const started = performance.now();
          const n = seq++;
          await requester.request(
            PriceRequested,
            { item: `item-${n % 500}`, quantity: n },
            { timeoutMs: 10_000 },
          );
          latencies.push(performance.now() - started);
        }
      }),
    );
    return latencies;
  };
  await run(8, 1_000); // warm-up: joins the reply topic, fills caches
  const single = await run(1, Math.max(1_000, (seconds * 1000) / 2));
  const concurrent = await run(32, seconds * 1000);

  await requester.close();
  await router.close();
  await responderPublisher.close();
  await transport.close();
  rmSync(dir, { recursive: true, force: true });

  const ms = (value: number) => Math.round(value * 1000) / 1000;
  const note = (latencies: number[], inFlight: number, durationMs: number) =>
    `${inFlight} in flight for ${durationMs / 1000} s: ${latencies.length} round trips (request published, handled by a Router, reply published and matched), one process, synchronous=full`;
  const singleMs = Math.max(1_000, (seconds * 1000) / 2);
  return [
    {
      name: 'request-reply round trips, 32 in flight (synchronous=full)',
      value: Math.round(concurrent.length / seconds),
      unit: 'round trips/s',
      better: 'higher',
      note: note(concurrent, 32, seconds * 1000),
    },
    {
      name: 'request-reply p99, 32 in flight (synchronous=full)',
      value: ms(percentile(concurrent, 99)),
      unit: 'ms',
      better: 'lower',
      note: `p50 ${ms(percentile(concurrent, 50))} ms; ${note(concurrent, 32, seconds * 1000)}`,
    },
    {
      name: 'request-reply p99, 1 in flight (synchronous=full)',
      value: ms(percentile(single, 99)),
      unit: 'ms',
      better: 'lower',
      note: `p50 ${ms(percentile(single, 50))} ms, ${Math.round(single.length / (singleMs / 1000))} round trips/s; ${note(single, 1, singleMs)}`,
    },
  ];
}
