// An outbox relay in a process of its own, for the crash proofs: it publishes the store's outbox to a
// topic of an embedded transport file and prints `active` when it takes the lease and `published <n>`
// after each batch. SIGTERM stops it gracefully; the proofs SIGKILL it.
//
// Usage: node relay-process.ts <sqlite|postgres> <sqlite path | postgres url> <schema|-> <bus path> <topic>

import { createEmbeddedTransport } from '../../transport/embedded/index.ts';
import type { EventStore } from '../event-store.ts';
import { createOutboxRelay } from '../outbox/outbox-relay.ts';
import { createPostgresEventStore } from '../postgres/index.ts';
import { createSqliteEventStore } from '../sqlite/index.ts';

const [adapter, location, schema, busPath, topic] = process.argv.slice(2);
if (!adapter || !location || !schema || !busPath || !topic) {
  process.stderr.write(
    'usage: relay-process.ts <sqlite|postgres> <location> <schema|-> <bus path> <topic>\n',
  );
  process.exit(2);
}

const store: EventStore =
  adapter === 'postgres'
    ? createPostgresEventStore({ url: location, schema, maxConnections: 3 })
    : createSqliteEventStore({ path: location, synchronous: 'normal' });
const bus = createEmbeddedTransport({ path: busPath, synchronous: 'normal', maintenanceIntervalMs: 0 });
// Each publish lingers 15 ms after the transport took it, before the relay can mark it sent: a kill then
// often lands between the two, the case that makes duplicates.
const transport: typeof bus = Object.assign(Object.create(bus) as typeof bus, {
  append: async (...args: Parameters<typeof bus.append>) => {
    const offsets = await bus.append(...args);
    await new Promise((resolve) => setTimeout(resolve, 15));
    return offsets;
  },
});
let wasActive = false;
let published = 0;
const relay = createOutboxRelay({
  store,
  transport,
  topic,
  batchSize: 25,
  pollIntervalMs: 5,
  standbyPollMs: 50,
  leaseTtlMs: 1_000,
  retry: { initialDelayMs: 20, maxDelayMs: 200 },
  onPublished(entries) {
    published += entries.length;
    process.stdout.write(`published ${published}\n`);
  },
});
relay.start();
const watch = setInterval(() => {
  if (relay.active && !wasActive) process.stdout.write('active\n');
  wasActive = relay.active;
}, 5);
process.stdout.write('started\n');

process.once('SIGTERM', async () => {
  clearInterval(watch);
  await relay.stop();
  await bus.close();
  await store.close();
  process.exit(0);
});
