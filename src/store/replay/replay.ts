import type { Catalog } from '../../events/catalog.ts';
import type { Transport } from '../../transport/transport.ts';
import type { EventStore, StoredEvent } from '../event-store.ts';
import { sleepUnlessAborted } from '../subscription.ts';
import {
  createPublisherSink,
  createTopicSink,
  type EventPublisher,
  type EventSink,
  type PartitionBy,
} from '../topic-sink.ts';

/** Which events a replay takes; every given criterion must hold. */
export interface ReplayFilter {
  tenantId?: string;
  /** CloudEvents types. */
  types?: readonly string[];
  /** Recorded at or after this time. */
  since?: Date;
  /** Recorded before this time. */
  until?: Date;
  correlationId?: string;
  /** Streams whose id starts with this text. */
  streamPrefix?: string;
}

/** How far a replay is. */
export interface ReplayProgress {
  /** Events delivered so far. */
  processed: number;
  /** Events the replay takes: those matching when it started. */
  total: number;
  /** Milliseconds since it started. */
  elapsedMs: number;
}

/** How to replay: the events, where they go (a handler, a topic, or a publisher), and how fast. */
export interface ReplayOptions {
  store: EventStore;
  filter?: ReplayFilter;
  /** Hands each event to this function, in global order. */
  handler?: (event: StoredEvent) => void | Promise<void>;
  /** Republishes each event to a topic of this transport... */
  transport?: Transport;
  /** ...this one (or the catalog's topic for the type). */
  topic?: string;
  catalog?: Catalog;
  /** Record key on the transport: `partitionkey` (default: the event's, else its stream id) or `stream`. */
  partitionBy?: PartitionBy;
  /** ...or through a Publisher's `publishEvents` (catalog routing). */
  publisher?: EventPublisher;
  /** Most events delivered per second; default unlimited. */
  ratePerSecond?: number;
  /** Only count the events a replay would deliver; deliver nothing. */
  dryRun?: boolean;
  /** Most events read per query; default 500. */
  batchSize?: number;
  /** Called after each delivered chunk, and once at the start. */
  onProgress?(progress: ReplayProgress): void;
  /** Stops the replay after the chunk in flight. */
  signal?: AbortSignal;
}

/** What a replay did. */
export interface ReplayReport {
  /** Events that matched when it started. */
  total: number;
  /** Events delivered (0 for a dry run). */
  processed: number;
  dryRun: boolean;
  /** True when `signal` stopped it before the end. */
  aborted: boolean;
  /** Wall time, in milliseconds. */
  durationMs: number;
}

/**
 * Replays stored events, selected by tenant, types, time window, correlation id and stream prefix,
 * to a handler or onto a topic. It delivers exactly the events that matched when it started (it reads
 * up to the head checkpoint it took then), in global order, at most `ratePerSecond`.
 */
export async function replay(options: ReplayOptions): Promise<ReplayReport> {
  const { store, filter = {}, dryRun = false, signal } = options;
  const batchSize = options.batchSize ?? 500;
  const rate = options.ratePerSecond;
  if (rate !== undefined && (!Number.isFinite(rate) || rate <= 0)) {
    throw new TypeError(`replay: ratePerSecond must be a number > 0, got ${rate}`);
  }
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new TypeError(`replay: batchSize must be an integer ≥ 1, got ${batchSize}`);
  }
  const targets = [options.handler, options.transport, options.publisher].filter((t) => t !== undefined);
  if (!dryRun && targets.length !== 1) {
    throw new TypeError(
      'replay: give exactly one of handler, transport (with a topic or catalog) or publisher',
    );
  }
  const started = performance.now();
  const head = await store.headCheckpoint();
  const total = head === undefined ? 0 : await store.countEvents({ ...filter, endAt: head });
  const elapsed = () => performance.now() - started;
  options.onProgress?.({ processed: 0, total, elapsedMs: elapsed() });
  if (dryRun || total === 0) {
    return { total, processed: 0, dryRun, aborted: false, durationMs: elapsed() };
  }

  const deliver = sinkOf(options);
  // Chunks of about a twentieth of a second at the rate keep the pace even.
  const chunk = rate === undefined ? batchSize : Math.max(1, Math.min(batchSize, Math.ceil(rate / 20)));
  let processed = 0;
  let after: string | undefined;
  for (;;) {
    if (signal?.aborted) return { total, processed, dryRun, aborted: true, durationMs: elapsed() };
    const page = await store.readAll({ ...filter, after, endAt: head, maxCount: chunk });
    if (page.events.length > 0) {
      await deliver(page.events);
      processed += page.events.length;
      options.onProgress?.({ processed, total, elapsedMs: elapsed() });
      if (rate !== undefined) {
        const due = (processed / rate) * 1000 - elapsed();
        if (due > 0) await sleepUnlessAborted(due, signal ?? new AbortController().signal);
      }
    }
    after = page.next;
    if (!page.hasMore) break;
  }
  return { total, processed, dryRun, aborted: false, durationMs: elapsed() };
}

function sinkOf(options: ReplayOptions): (events: readonly StoredEvent[]) => Promise<void> {
  if (options.handler !== undefined) {
    const handler = options.handler;
    return async (events) => {
      for (const event of events) await handler(event);
    };
  }
  const sink: EventSink =
    options.publisher !== undefined
      ? createPublisherSink(options.publisher)
      : createTopicSink({
          transport: options.transport!,
          topic: options.topic,
          catalog: options.catalog,
          partitionBy: options.partitionBy ?? 'partitionkey',
        });
  return (events) => sink(events.map((e) => ({ event: e.event, streamId: e.streamId })));
}
