import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { DecodedCloudEvent, Publisher } from '../../bus/publisher-port.ts';
import type { Catalog } from '../../events/catalog.ts';
import { eventFingerprint, storedForm } from './event-fingerprint.ts';
import { type ConflictingEvent, IdempotencyConflictError } from './idempotency-conflict.ts';
import type { EventKey, IdempotencyStore, RecordedReceipt } from './idempotency-store.ts';

/** A receipt of the events route; `replayed` when the event had been stored by an earlier request. */
export interface EventReceipt extends RecordedReceipt {
  replayed?: true;
}

/** Publishes a request's events at most once per (source, id) within the store's retention. */
export type IdempotentPublish = (events: readonly DecodedCloudEvent[]) => Promise<EventReceipt[]>;

/** The distinct events of a request, and which of them each position of the request is. */
interface DistinctEvents {
  keys: EventKey[];
  /** The first event of each distinct key. */
  events: DecodedCloudEvent[];
  /** For each event of the request, the index of its key in `keys`. */
  slots: number[];
}

/**
 * Wraps the publisher: events seen before with the same content get their first receipt and are not appended
 * again; an id reused with other content throws IdempotencyConflictError and nothing is written; the rest is
 * appended all or nothing. Requests sharing an id run one after the other (a reservation in the store).
 */
export function createIdempotentPublish(deps: {
  publisher: Publisher;
  /** Fills in what Keel adds to a stored event, so an event and its export share one fingerprint. */
  catalog?: Catalog;
  store: IdempotencyStore;
  logger: Logger;
}): IdempotentPublish {
  const { publisher, store, logger, catalog } = deps;
  return async (events) => {
    const distinct = distinctEvents(events, catalog);
    const token = randomUUID();
    const found = await reserveWhenFree(store, distinct, token);
    const fresh = distinct.keys.flatMap((_, i) => (found[i] === undefined ? [i] : []));
    const receipts: (EventReceipt | undefined)[] = found.map((receipt) =>
      receipt === undefined ? undefined : { ...receipt, replayed: true },
    );
    if (fresh.length > 0) {
      let appended: Awaited<ReturnType<Publisher['publishDecoded']>>;
      try {
        appended = await publisher.publishDecoded(fresh.map((i) => distinct.events[i] as DecodedCloudEvent));
      } catch (error) {
        store.release(token);
        throw error;
      }
      const done = appended.map((receipt, n) => {
        const recorded = {
          id: receipt.id,
          type: receipt.type,
          topic: receipt.topic,
          partition: receipt.partition,
          offset: receipt.offset.toString(),
        };
        receipts[fresh[n] as number] = recorded;
        return { key: distinct.keys[fresh[n] as number] as EventKey, receipt: recorded };
      });
      await record(store, token, done, logger);
    }
    return distinct.slots.map((slot) => receipts[slot] as EventReceipt);
  };
}

/**
 * Records receipts after the append. The events are stored whatever happens here, so a failure is logged,
 * not thrown: the request succeeded, only a later retry of it would append again.
 */
async function record(
  store: IdempotencyStore,
  token: string,
  done: { key: EventKey; receipt: RecordedReceipt }[],
  logger: Logger,
): Promise<void> {
  try {
    await store.complete(token, done);
  } catch (error) {
    logger.warn({ err: error, ids: done.map((d) => d.key.id) }, 'idempotency receipts not recorded');
  }
}

/** Reserves the request's keys, waiting while another request holds one; throws on a conflict. */
async function reserveWhenFree(
  store: IdempotencyStore,
  distinct: DistinctEvents,
  token: string,
): Promise<(RecordedReceipt | undefined)[]> {
  for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
    const outcome = store.reserve(distinct.keys, token);
    if (outcome.kind === 'ok') return outcome.receipts;
    if (outcome.kind === 'conflict') {
      const taken = new Set(outcome.keys);
      throw new IdempotencyConflictError(
        distinct.slots.flatMap((slot, index): ConflictingEvent[] => {
          const key = distinct.keys[slot] as EventKey;
          const first = distinct.slots.indexOf(slot) === index;
          return first && taken.has(key) ? [{ index, source: key.source, id: key.id }] : [];
        }),
      );
    }
    await sleep(wait);
  }
}

/**
 * Keys each event by (source, id) and its content hash. An id repeated in the request with the same content
 * is one event; with other content the request conflicts with itself.
 */
function distinctEvents(events: readonly DecodedCloudEvent[], catalog: Catalog | undefined): DistinctEvents {
  const keys: EventKey[] = [];
  const firsts: DecodedCloudEvent[] = [];
  const slots: number[] = [];
  const seen = new Map<string, number>();
  const conflicts: ConflictingEvent[] = [];
  events.forEach((event, index) => {
    const key = { source: event.source, id: event.id, hash: eventFingerprint(storedForm(event, catalog)) };
    const name = `${key.source}\u0000${key.id}`;
    const slot = seen.get(name);
    if (slot === undefined) {
      seen.set(name, keys.length);
      slots.push(keys.length);
      keys.push(key);
      firsts.push(event);
    } else {
      if ((keys[slot] as EventKey).hash !== key.hash) conflicts.push({ index, ...key });
      slots.push(slot);
    }
  });
  if (conflicts.length > 0) {
    throw new IdempotencyConflictError(conflicts.map(({ index, source, id }) => ({ index, source, id })));
  }
  return { keys, events: firsts, slots };
}
