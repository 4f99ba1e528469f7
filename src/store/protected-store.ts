import type { FieldEncryption, PhiReader } from '../security/encryption/field-encryption.ts';
import type { EventStore, StoredEvent } from './event-store.ts';

/**
 * An event store whose appends seal sensitive fields before they reach the database, and whose reads
 * (streams, read-all, single events, subscriptions, so projections too) open them for `reader`. The outbox
 * and archives stay sealed: what leaves the store for the bus or a file carries no plain PHI. Snapshots are
 * stored as written (they hold what the folds made of opened data).
 */
export function protectedEventStore(
  store: EventStore,
  encryption: FieldEncryption,
  reader: PhiReader,
): EventStore {
  const opened = async (stored: StoredEvent): Promise<StoredEvent> => ({
    ...stored,
    event: await encryption.open(stored.event, reader),
  });
  const openedAll = (events: readonly StoredEvent[]) => Promise.all(events.map(opened));

  const wrapped: EventStore = {
    ...store,
    name: store.name,
    tenantId: store.tenantId,
    outbox: store.outbox,

    async append(streamId, events, options) {
      const result = await store.append(streamId, await encryption.seal(events), options);
      return { ...result, events: await openedAll(result.events) };
    },

    async readStream(streamId, options) {
      const page = await store.readStream(streamId, options);
      return { ...page, events: await openedAll(page.events) };
    },

    async readAll(options) {
      const page = await store.readAll(options);
      return { ...page, events: await openedAll(page.events) };
    },

    async readEvent(eventId) {
      const stored = await store.readEvent(eventId);
      return stored === undefined ? undefined : opened(stored);
    },

    subscribe: (options) =>
      store.subscribe({ ...options, handler: async (stored) => options.handler(await opened(stored)) }),

    forTenant: (tenantId) => protectedEventStore(store.forTenant(tenantId), encryption, reader),

    headCheckpoint: () => store.headCheckpoint(),
    listStreams: (options) => store.listStreams(options),
    listSnapshots: (streamId) => store.listSnapshots(streamId),
    countEvents: (options) => store.countEvents(options),
    deleteStream: (streamId, options) => store.deleteStream(streamId, options),
    readSnapshot: (streamId, name) => store.readSnapshot(streamId, name),
    writeSnapshot: (snapshot) => store.writeSnapshot(snapshot),
    transaction: (work) => store.transaction(work),
    archive: (options) => store.archive(options),
    close: () => store.close(),
    [Symbol.asyncDispose]: () => store.close(),
  };
  return wrapped;
}
