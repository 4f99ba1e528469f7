import { z } from 'zod';
import { createCatalog } from '../../events/catalog.ts';
import { defineEvent } from '../../events/define-event.ts';
import { defineTopic } from '../../events/define-topic.ts';

/** A test event: the `seq`-th increment of counter `key`. */
export const CounterIncremented = defineEvent({
  type: 'test.counter.incremented',
  version: 1,
  schema: z.object({ key: z.string(), seq: z.number().int() }),
  partitionKey: (data) => data.key,
});

/** The test topic, with few partitions so keys share them. */
export const CounterEvents = defineTopic({
  name: 'test.counters',
  partitions: 3,
  events: [CounterIncremented],
});

/** Catalog of the router tests. */
export const counterCatalog = createCatalog({ topics: [CounterEvents] });

/** A counter catalog whose topic name starts with `prefix`, for tests sharing one broker. */
export function counterCatalogFor(prefix: string, partitions = 3) {
  const topic = defineTopic({ name: `${prefix}.counters`, partitions, events: [CounterIncremented] });
  return { topic, catalog: createCatalog({ topics: [topic] }) };
}
