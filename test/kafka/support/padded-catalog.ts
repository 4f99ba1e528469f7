import { z } from 'zod';
import { createCatalog } from '../../../src/events/catalog.ts';
import { defineEvent } from '../../../src/events/define-event.ts';
import { defineTopic } from '../../../src/events/define-topic.ts';

/** A keyed test event of about 500 bytes on the wire (data plus `ce_` headers): the `seq`-th of key `key`. */
export const PaddedEvent = defineEvent({
  type: 'test.kafka.padded',
  version: 1,
  schema: z.object({ key: z.string(), seq: z.number().int(), pad: z.string() }),
  partitionKey: (data) => data.key,
});

/** Padding that brings a PaddedEvent record to about 500 bytes. */
export const PAD = 'x'.repeat(260);

/** A catalog of one topic named `name` carrying PaddedEvent. */
export function paddedCatalog(name: string, partitions = 6) {
  const topic = defineTopic({ name, partitions, events: [PaddedEvent] });
  return { topic, catalog: createCatalog({ topics: [topic] }) };
}
