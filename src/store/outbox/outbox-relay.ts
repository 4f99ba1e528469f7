import { ExponentialBackoff, type IBackoff } from 'cockatiel';
import type { Logger } from 'pino';
import type { Catalog } from '../../events/catalog.ts';
import type { CloudEvent } from '../../events/cloud-event.ts';
import type { Transport } from '../../transport/transport.ts';
import type { EventStore, OutboxEntry } from '../event-store.ts';
import { sleepUnlessAborted } from '../subscription.ts';
import {
  createPublisherSink,
  createTopicSink,
  type EventPublisher,
  type EventSink,
  type PartitionBy,
} from '../topic-sink.ts';

/** How to run an outbox relay: a store, and either a transport (with a topic) or a publisher. */
export interface OutboxRelayOptions {
  store: EventStore;
  /** Publish straight to the transport... */
  transport?: Transport;
  /** ...to this topic (or the topic chosen per event, else the catalog's for the type; the outbox row's own topic wins). */
  topic?: string | ((event: CloudEvent, streamId: string) => string | undefined);
  catalog?: Catalog;
  /** Record key on the transport: `stream` (default: a stream's events share a partition, in order) or `partitionkey`. */
  partitionBy?: PartitionBy;
  /** ...or through a Publisher (validation against its catalog, its retries, its local buffer). */
  publisher?: EventPublisher;
  /** Lease name: one relay is active per name and store; default `default`. */
  name?: string;
  /** Most entries published per round; default 500. */
  batchSize?: number;
  /** Milliseconds between looks at an empty outbox; default 50. */
  pollIntervalMs?: number;
  /** Milliseconds between a standby's attempts to take the lease; default 1 000. */
  standbyPollMs?: number;
  /** SQLite: milliseconds the lease outlives its holder's last renewal (takeover time); default 5 000. */
  leaseTtlMs?: number;
  /** Backoff after a failure (publish, database), in milliseconds; defaults 100 and 5 000. */
  retry?: { initialDelayMs?: number; maxDelayMs?: number };
  logger?: Logger;
  /** Called after each batch is published and marked sent. */
  onPublished?(entries: readonly OutboxEntry[]): void;
}

/** A running outbox relay. */
export interface OutboxRelay {
  /** True while this relay holds the lease (the active one). */
  readonly active: boolean;
  /** Entries this relay published and marked sent. */
  readonly published: number;
  /** Starts the loop in the background (once). */
  start(): void;
  /** Resolves when the loop has stopped. */
  readonly done: Promise<void>;
  /** Stops after the batch in flight and gives the lease up. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * The outbox relay: publishes the store's outbox entries in order (so in version order per stream) and
 * marks them sent. Only the holder of the outbox lease works (PostgreSQL: an advisory lock held by its
 * connection; SQLite: a lease row); the others stand by and take over when the holder dies. Delivery is
 * at least once: a relay that dies between publishing and marking, or that loses its lease mid-batch,
 * has its entries published again, with the same event ids (the dedupe key downstream).
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { store } = options;
  if ((options.transport === undefined) === (options.publisher === undefined)) {
    throw new TypeError('createOutboxRelay: give either a transport or a publisher');
  }
  const sink: EventSink =
    options.publisher !== undefined
      ? createPublisherSink(options.publisher)
      : createTopicSink({
          transport: options.transport!,
          topic: options.topic,
          catalog: options.catalog,
          partitionBy: options.partitionBy ?? 'stream',
        });
  const name = options.name ?? 'default';
  const batchSize = options.batchSize ?? 500;
  const pollIntervalMs = options.pollIntervalMs ?? 50;
  const standbyPollMs = options.standbyPollMs ?? 1_000;
  const lease = store.outbox.lease(`outbox-relay:${name}`, { ttlMs: options.leaseTtlMs ?? 5_000 });
  const backoff = new ExponentialBackoff({
    initialDelay: options.retry?.initialDelayMs ?? 100,
    maxDelay: options.retry?.maxDelayMs ?? 5_000,
  });
  const logger = options.logger?.child({ component: 'outbox-relay', relay: name });
  const stopping = new AbortController();
  let active = false;
  let published = 0;
  let done: Promise<void> = Promise.resolve();
  let started = false;

  const loop = async (): Promise<void> => {
    let delay: IBackoff<unknown> | undefined;
    const failed = async (error: unknown, doing: string) => {
      logger?.warn({ err: error }, `outbox relay: ${doing} failed; retrying`);
      delay = delay === undefined ? backoff.next() : delay.next(undefined);
      await sleepUnlessAborted(delay.duration, stopping.signal);
    };
    while (!stopping.signal.aborted) {
      let held: boolean;
      try {
        held = await lease.acquire();
      } catch (error) {
        active = false;
        await failed(error, 'taking the lease');
        continue;
      }
      if (!held) {
        if (active) logger?.warn('outbox relay lost its lease: standing by');
        active = false;
        await sleepUnlessAborted(standbyPollMs, stopping.signal);
        continue;
      }
      if (!active) logger?.info('outbox relay is active');
      active = true;
      let entries: OutboxEntry[];
      try {
        entries = await store.outbox.pending(batchSize);
      } catch (error) {
        await failed(error, 'reading the outbox');
        continue;
      }
      if (entries.length === 0) {
        delay = undefined;
        await sleepUnlessAborted(pollIntervalMs, stopping.signal);
        continue;
      }
      try {
        await sink(entries.map((e) => ({ event: e.event, streamId: e.streamId, topic: e.topic })));
      } catch (error) {
        await failed(error, 'publishing');
        continue;
      }
      try {
        await store.outbox.markSent(entries.map((e) => e.id));
      } catch (error) {
        // Published but not marked: the next round publishes them again (duplicates by event id).
        await failed(error, 'marking entries sent');
        continue;
      }
      delay = undefined;
      published += entries.length;
      options.onPublished?.(entries);
    }
  };

  const relay: OutboxRelay = {
    get active() {
      return active;
    },
    get published() {
      return published;
    },
    get done() {
      return done;
    },
    start() {
      if (started) return;
      started = true;
      done = loop().finally(async () => {
        active = false;
        await lease.release().catch(() => {});
      });
      done.catch(() => {});
    },
    async stop() {
      stopping.abort();
      await done.catch(() => {});
    },
    async [Symbol.asyncDispose]() {
      await relay.stop();
    },
  };
  return relay;
}
