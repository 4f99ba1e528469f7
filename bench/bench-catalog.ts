import { z } from 'zod';
import { createCatalog } from '../src/events/catalog.ts';
import { defineEvent } from '../src/events/define-event.ts';
import { defineTopic } from '../src/events/define-topic.ts';

/** The benchmark event: padded so one encoded record is about 500 bytes. */
export const BenchEvent = defineEvent({
  type: 'bench.sample.recorded',
  version: 1,
  schema: z.object({ key: z.string(), seq: z.number().int(), sentAt: z.number(), pad: z.string() }),
  partitionKey: (data) => data.key,
});

/** Benchmark topic: 12 partitions, like the example patients topic. */
export const BenchTopic = defineTopic({ name: 'bench.samples', partitions: 12, events: [BenchEvent] });

/** Catalog of the benchmarks. */
export const benchCatalog = createCatalog({ topics: [BenchTopic] });

/** Padding that brings one encoded benchmark event to about 500 bytes. */
export const PAD = 'x'.repeat(200);
