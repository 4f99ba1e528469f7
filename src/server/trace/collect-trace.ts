import type { CloudEvent } from '../../events/cloud-event.ts';
import type { EventStore, StoredEvent } from '../../store/event-store.ts';
import { browsePartition } from '../../transport/browse-partition.ts';
import type { GroupAdmin } from '../../transport/group-admin.ts';
import type { StoredRecord, Transport } from '../../transport/transport.ts';
import { attributeOf, decodeRecord } from '../topics/message-filter.ts';

/** Where a trace looks and how much it may read. */
export interface TraceSources {
  transport: Transport;
  store: EventStore;
  /** Groups on each topic (for who handled a record); without it, `handledBy` stays empty. */
  groupAdmin: GroupAdmin | undefined;
  /** Topics searched: the catalog's. */
  topics: readonly string[];
}

/** Bounds of one trace. */
export interface TraceBounds {
  /** Most topic records looked at across all topics (newest first). */
  maxScan: number;
  /** Most events kept. */
  maxEvents: number;
  /**
   * Whether an event of this tenant may be shown (`''`: of no tenant); others are left out as if they were
   * not there. Absent: every event.
   */
  visible?: ((tenant: string) => boolean) | undefined;
}

/** One place an event of the trace was found. */
export type TraceLocation =
  | {
      kind: 'topic';
      topic: string;
      partition: number;
      offset: bigint;
      /** When the record was appended, ms since the epoch. */
      appendedAt: number;
      /** Consumer groups whose committed offset on the partition is past the record: they handled it. */
      handledBy: string[];
    }
  | { kind: 'store'; streamId: string; version: number; position: bigint; recordedAt: number };

/** One event of a trace, with every place it was found. */
export interface TraceEvent {
  event: CloudEvent;
  locations: TraceLocation[];
}

/** What a trace found for one correlation id. */
export interface CollectedTrace {
  correlationId: string;
  events: Map<string, TraceEvent>;
  /** Topic records looked at. */
  scanned: number;
  /** False when a bound stopped the search before every record (or event) was looked at. */
  complete: boolean;
}

/**
 * Everything with one correlation id: the store's events (by its correlation index) and the topics'
 * records (scanned newest first within `maxScan`), merged by event id. The root of a trace carries no
 * correlation id when it was published outside a handler (its children take its id as theirs), so the
 * event whose id is the correlation id belongs to it too.
 */
export async function collectTrace(
  sources: TraceSources,
  correlationId: string,
  bounds: TraceBounds,
): Promise<CollectedTrace> {
  const trace: CollectedTrace = { correlationId, events: new Map(), scanned: 0, complete: true };
  await collectFromStore(sources.store, trace, bounds);
  await collectFromTopics(sources, trace, bounds);
  await markHandlers(sources, trace);
  return trace;
}

function add(
  trace: CollectedTrace,
  event: CloudEvent,
  location: TraceLocation,
  bounds: TraceBounds,
  tenant: string,
): void {
  if (bounds.visible !== undefined && !bounds.visible(tenant)) return;
  const known = trace.events.get(event.id);
  if (known !== undefined) {
    known.locations.push(location);
    return;
  }
  if (trace.events.size >= bounds.maxEvents) {
    trace.complete = false;
    return;
  }
  trace.events.set(event.id, { event, locations: [location] });
}

function storeLocation(stored: StoredEvent): TraceLocation {
  return {
    kind: 'store',
    streamId: stored.streamId,
    version: stored.version,
    position: stored.position,
    recordedAt: stored.recordedAt.getTime(),
  };
}

async function collectFromStore(
  store: EventStore,
  trace: CollectedTrace,
  bounds: TraceBounds,
): Promise<void> {
  const root = await store.readEvent(trace.correlationId);
  if (root !== undefined) add(trace, root.event, storeLocation(root), bounds, root.tenantId);
  let after: string | undefined;
  for (;;) {
    const page = await store.readAll({ correlationId: trace.correlationId, after, maxCount: 500 });
    for (const stored of page.events)
      add(trace, stored.event, storeLocation(stored), bounds, stored.tenantId);
    after = page.next;
    if (!page.hasMore || trace.events.size >= bounds.maxEvents) {
      if (page.hasMore) trace.complete = false;
      return;
    }
  }
}

async function collectFromTopics(
  sources: TraceSources,
  trace: CollectedTrace,
  bounds: TraceBounds,
): Promise<void> {
  const { transport } = sources;
  const { correlationId } = trace;
  const belongs = (record: StoredRecord): boolean => {
    let decoded: CloudEvent | undefined | null = null;
    const decode = () => {
      if (decoded === null) decoded = decodeRecord(record);
      return decoded;
    };
    return (
      attributeOf(record, 'correlationid', decode) === correlationId ||
      attributeOf(record, 'id', decode) === correlationId
    );
  };
  for (const topic of sources.topics) {
    if ((await transport.describeTopic(topic)) === undefined) continue;
    for (const { partition, earliest, latest } of await transport.offsets(topic)) {
      let from: bigint | null | undefined;
      while (from !== null && latest > earliest) {
        if (trace.scanned >= bounds.maxScan) {
          trace.complete = false;
          return;
        }
        const page = await browsePartition(transport, {
          topic,
          partition,
          order: 'newest',
          ...(from === undefined ? {} : { from }),
          limit: bounds.maxEvents,
          match: belongs,
          maxScan: bounds.maxScan - trace.scanned,
        });
        trace.scanned += page.scanned;
        for (const record of page.records) {
          const event = decodeRecord(record);
          if (event === undefined) continue;
          add(trace, event, topicLocation(record), bounds, event.tenantid ?? '');
        }
        from = page.next;
      }
    }
  }
}

function topicLocation(record: StoredRecord): TraceLocation {
  return {
    kind: 'topic',
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    appendedAt: record.timestamp,
    handledBy: [],
  };
}

/** Fills `handledBy`: the groups on each topic of the trace whose committed offset is past the record. */
async function markHandlers(sources: TraceSources, trace: CollectedTrace): Promise<void> {
  if (sources.groupAdmin === undefined) return;
  const locations = [...trace.events.values()].flatMap((e) =>
    e.locations.filter((l): l is Extract<TraceLocation, { kind: 'topic' }> => l.kind === 'topic'),
  );
  if (locations.length === 0) return;
  const topics = new Set(locations.map((l) => l.topic));
  const byGroup = await sources.groupAdmin.topicsByGroup();
  for (const [group, groupTopics] of byGroup) {
    const mine = groupTopics.filter((t) => topics.has(t));
    if (mine.length === 0) continue;
    const committed = new Map<string, bigint>();
    for (const lag of await sources.transport.groupLag(group, mine)) {
      if (lag.committed !== null) committed.set(`${lag.topic}:${lag.partition}`, lag.committed);
    }
    for (const location of locations) {
      const next = committed.get(`${location.topic}:${location.partition}`);
      if (next !== undefined && next > location.offset) location.handledBy.push(group);
    }
  }
  for (const location of locations) location.handledBy.sort();
}

/**
 * The event with this id: in the store (by its id index), else on the topics (newest first, within `maxScan`);
 * undefined when none, or only one of a tenant that is not `visible`.
 */
export async function findTracedEvent(
  sources: TraceSources,
  eventId: string,
  bounds: Pick<TraceBounds, 'maxScan' | 'visible'>,
): Promise<CloudEvent | undefined> {
  const { maxScan, visible = () => true } = bounds;
  const stored = await sources.store.readEvent(eventId);
  if (stored !== undefined) return visible(stored.tenantId) ? stored.event : undefined;
  const { transport } = sources;
  const isIt = (record: StoredRecord) => {
    const decode = () => decodeRecord(record);
    if (attributeOf(record, 'id', decode) !== eventId) return false;
    const tenant = attributeOf(record, 'tenantid', decode);
    return visible(typeof tenant === 'string' ? tenant : '');
  };
  let scanned = 0;
  for (const topic of sources.topics) {
    if ((await transport.describeTopic(topic)) === undefined) continue;
    for (const { partition } of await transport.offsets(topic)) {
      if (scanned >= maxScan) return undefined;
      const page = await browsePartition(transport, {
        topic,
        partition,
        order: 'newest',
        limit: 1,
        match: isIt,
        maxScan: maxScan - scanned,
      });
      scanned += page.scanned;
      const record = page.records[0];
      if (record !== undefined) return decodeRecord(record);
    }
  }
  return undefined;
}
