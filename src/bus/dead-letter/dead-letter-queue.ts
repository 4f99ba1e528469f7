import { KeelError } from '../../errors/keel-error.ts';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { createEvent } from '../../events/create-event.ts';
import { fromRecord, toRecord } from '../../events/kafka-binding.ts';
import type { KeelMetrics } from '../../observability/metrics.ts';
import type { OutgoingRecord, StoredRecord, Transport } from '../../transport/transport.ts';
import { DeadLetterDiscarded, DeadLetterRetried } from '../system-events.ts';
import { type FailureInfo, failureOf, originalHeaders, withFailure } from './failure-headers.ts';
import { deadLetterTopic } from './topic-names.ts';

/** What became of a dead-letter entry. */
export type DeadLetterStatus = 'pending' | 'retried' | 'discarded';

/** One event in a dead-letter queue, with why it is there. */
export interface DeadLetterEntry {
  /** `<partition>:<offset>` in the DLQ topic. */
  id: string;
  /** The event as it was consumed; undefined when the record could not be decoded (a poison pill). */
  event: CloudEvent | undefined;
  /** Event id and type, from the event or its headers. */
  eventId: string | undefined;
  eventType: string | undefined;
  failure: FailureInfo;
  status: DeadLetterStatus;
  /** Reason given when discarded. */
  reason?: string;
  /** The DLQ record itself. */
  record: StoredRecord;
  /** Pending entries of the same key parked behind this one, the head of its key's chain (ordered retries). */
  parkedBehind: number;
  /** Id of the pending entry this one waits behind (the head of its key's chain), if it is parked. */
  parkedBehindEntry?: string;
}

/** Which entries to list or act on; every field narrows. */
export interface DeadLetterFilter {
  eventType?: string;
  /** Error class name, e.g. `ValidationError`. */
  errorType?: string;
  handler?: string;
  sourceTopic?: string;
  status?: DeadLetterStatus;
  /** Latest failure at or after / before these times (milliseconds since the epoch). */
  from?: number;
  to?: number;
}

/** The dead-letter queue of one consumer group: list, inspect, retry, discard. */
export interface DeadLetterQueue {
  readonly topic: string;
  /** Entries in DLQ order, filtered; `limit` (default 100) entries after `cursor` (an entry id). */
  list(filter?: DeadLetterFilter & { limit?: number; cursor?: string }): Promise<DeadLetterEntry[]>;
  /** One entry, or undefined. */
  get(id: string): Promise<DeadLetterEntry | undefined>;
  /**
   * Republishes pending entries (one id, or every match of a filter) to their source topics unchanged;
   * resolves with the ids retried. Retrying the head of a parked chain releases the entries parked behind
   * it too, in order (their ids are in the result); a parked entry is retried through its head.
   */
  retry(target: string | DeadLetterFilter, options?: { by?: string }): Promise<string[]>;
  /**
   * Discards pending entries with a reason; resolves with the ids discarded. Discarding the head of a parked
   * chain releases the entries parked behind it, in order; a parked entry is discarded only as a head.
   */
  discard(target: string | DeadLetterFilter, reason: string, options?: { by?: string }): Promise<string[]>;
}

/** What a dead-letter queue needs. */
export interface DeadLetterQueueOptions {
  transport: Transport;
  group: string;
  metrics?: KeelMetrics;
  /** `source` of the action events; default `urn:keel:dlq`. */
  source?: string;
}

/** A DLQ entry id that names no entry. */
export class DeadLetterEntryNotFoundError extends KeelError {
  readonly code = 'KEEL_DLQ_ENTRY_NOT_FOUND';
  readonly entryId: string;
  constructor(entryId: string, topic: string) {
    super(`dead-letter entry ${entryId} is not in ${topic}`);
    this.entryId = entryId;
  }
}

/** An action on an entry parked behind an earlier one of its key: act on the head of its chain. */
export class DeadLetterEntryParkedError extends KeelError {
  readonly code = 'KEEL_DLQ_ENTRY_PARKED';
  readonly entryId: string;
  readonly headId: string;
  constructor(entryId: string, headId: string) {
    super(
      `dead-letter entry ${entryId} waits behind ${headId}, the head of its key's chain: act on ${headId}`,
    );
    this.entryId = entryId;
    this.headId = headId;
  }
}

/** An action on an entry that was already retried or discarded. */
export class DeadLetterEntryClosedError extends KeelError {
  readonly code = 'KEEL_DLQ_ENTRY_CLOSED';
  readonly entryId: string;
  readonly status: DeadLetterStatus;
  constructor(entryId: string, status: DeadLetterStatus) {
    super(`dead-letter entry ${entryId} was already ${status}`);
    this.entryId = entryId;
    this.status = status;
  }
}

const PAGE = 1000;
const entryIdOf = (record: StoredRecord) => `${record.partition}:${record.offset}`;

/**
 * Opens a group's dead-letter queue. Its state lives in the DLQ topic alone: entries are the failed
 * records, and every retry or discard is itself an event appended to the same topic, so any process
 * (the HTTP API, the CLI) sees the same queue.
 */
export function createDeadLetterQueue(options: DeadLetterQueueOptions): DeadLetterQueue {
  const { transport, group, metrics } = options;
  const topic = deadLetterTopic(group);
  const source = options.source ?? 'urn:keel:dlq';

  const scan = () => scanEntries(transport, topic);

  const matches = (entry: DeadLetterEntry, filter: DeadLetterFilter) =>
    (filter.eventType === undefined || entry.eventType === filter.eventType) &&
    (filter.errorType === undefined || entry.failure.errorType === filter.errorType) &&
    (filter.handler === undefined || entry.failure.handler === filter.handler) &&
    (filter.sourceTopic === undefined || entry.failure.sourceTopic === filter.sourceTopic) &&
    (filter.status === undefined || entry.status === filter.status) &&
    (filter.from === undefined || entry.failure.lastFailureAt >= filter.from) &&
    (filter.to === undefined || entry.failure.lastFailureAt < filter.to);

  /** Pending entries targeted, with the chains they head; parked entries are skipped (refused by id). */
  const targets = async (target: string | DeadLetterFilter) => {
    const all = await scan();
    // In source order: a chain's entries may sit in the DLQ in another order after a failed release.
    const chainOf = (head: DeadLetterEntry) =>
      all
        .filter((e) => e.parkedBehindEntry === head.id)
        .sort((a, b) => Number(a.failure.sourceOffset - b.failure.sourceOffset));
    if (typeof target !== 'string') {
      const chosen = all.filter(
        (e) => e.status === 'pending' && e.parkedBehindEntry === undefined && matches(e, target),
      );
      return chosen.map((entry) => ({ entry, behind: chainOf(entry) }));
    }
    const entry = all.find((e) => e.id === target);
    if (!entry) throw new DeadLetterEntryNotFoundError(target, topic);
    if (entry.status !== 'pending') throw new DeadLetterEntryClosedError(target, entry.status);
    if (entry.parkedBehindEntry !== undefined)
      throw new DeadLetterEntryParkedError(target, entry.parkedBehindEntry);
    return [{ entry, behind: chainOf(entry) }];
  };

  const actionRecord = (event: CloudEvent) => toRecord(event, { validated: true });
  const by = (options: { by?: string }) => (options.by === undefined ? {} : { by: options.by });
  const retried = (entry: DeadLetterEntry, actionOptions: { by?: string }) =>
    actionRecord(
      createEvent(
        DeadLetterRetried,
        {
          group,
          entryId: entry.id,
          eventId: entry.eventId ?? '',
          sourceTopic: entry.failure.sourceTopic,
          ...by(actionOptions),
        },
        { source },
      ),
    );

  /**
   * Sends entries back to their source partition, in order, with the actions that close them, in one atomic
   * append: a released chain keeps its failure headers and says which release it belongs to, so the group's
   * router hands it its place ahead of the key's later events.
   */
  const release = async (
    head: DeadLetterEntry,
    entries: readonly DeadLetterEntry[],
    actions: readonly OutgoingRecord[],
  ) => {
    const chained = head.failure.parked !== undefined;
    const records = entries.map((entry) =>
      chained
        ? withFailure(entry.record, { ...entry.failure, released: head.id })
        : {
            key: entry.record.key,
            value: entry.record.value,
            headers: originalHeaders(entry.record.headers),
          },
    );
    const { sourceTopic, sourcePartition } = head.failure;
    const writes = [{ topic, partition: 0, records: actions }];
    if (records.length > 0) writes.unshift({ topic: sourceTopic, partition: sourcePartition, records });
    await transport.appendAtomically(writes);
  };

  return {
    topic,
    async list(filter = {}) {
      const all = (await scan()).filter((entry) => matches(entry, filter));
      const start = filter.cursor === undefined ? 0 : all.findIndex((e) => e.id === filter.cursor) + 1;
      return all.slice(start, start + (filter.limit ?? 100));
    },
    async get(id) {
      return (await scan()).find((entry) => entry.id === id);
    },
    async retry(target, actionOptions = {}) {
      const done: string[] = [];
      for (const { entry, behind } of await targets(target)) {
        const released = [entry, ...behind];
        await release(
          entry,
          released,
          released.map((e) => retried(e, actionOptions)),
        );
        metrics?.dlqRetries.inc({ group }, released.length);
        done.push(...released.map((e) => e.id));
      }
      return done;
    },
    async discard(target, reason, actionOptions = {}) {
      const done: string[] = [];
      for (const { entry, behind } of await targets(target)) {
        const discarded = actionRecord(
          createEvent(
            DeadLetterDiscarded,
            { group, entryId: entry.id, eventId: entry.eventId ?? '', reason, ...by(actionOptions) },
            { source },
          ),
        );
        await release(entry, behind, [discarded, ...behind.map((e) => retried(e, actionOptions))]);
        if (behind.length > 0) metrics?.dlqRetries.inc({ group }, behind.length);
        done.push(entry.id);
      }
      return done;
    },
  };
}

/** Every entry of a DLQ topic with its status (from the action events in the topic) and its chain links. */
async function scanEntries(transport: Transport, topic: string): Promise<DeadLetterEntry[]> {
  const config = await transport.describeTopic(topic);
  if (!config) return [];
  const entries = new Map<string, DeadLetterEntry>();
  const actions: CloudEvent[] = [];
  for (const { partition, earliest, latest } of await transport.offsets(topic)) {
    for (let from = earliest; from < latest; ) {
      const records = await transport.read(topic, partition, from, PAGE);
      if (records.length === 0) break;
      for (const record of records) {
        const failure = failureOf(record);
        if (failure) {
          let event: CloudEvent | undefined;
          try {
            event = fromRecord({ ...record, headers: originalHeaders(record.headers) });
          } catch {
            event = undefined;
          }
          entries.set(entryIdOf(record), {
            id: entryIdOf(record),
            event,
            eventId: event?.id ?? record.headers.ce_id,
            eventType: event?.type ?? record.headers.ce_type,
            failure,
            status: 'pending',
            record,
            parkedBehind: 0,
          });
        } else {
          actions.push(fromRecord(record));
        }
      }
      from = records[records.length - 1]!.offset + 1n;
    }
  }
  for (const action of actions) {
    const data = action.data as { entryId: string; reason?: string };
    const entry = entries.get(data.entryId);
    if (!entry) continue;
    if (action.type === DeadLetterRetried.type) entry.status = 'retried';
    if (action.type === DeadLetterDiscarded.type) {
      entry.status = 'discarded';
      entry.reason = data.reason;
    }
  }
  const sorted = [...entries.values()].sort(
    (a, b) => a.record.partition - b.record.partition || Number(a.record.offset - b.record.offset),
  );
  linkChains(sorted);
  return sorted;
}

/**
 * Links the pending entries of each parked chain (entries marked parked, by source topic and key): the one
 * first in its source partition heads the chain, and the others wait behind it, in source order.
 */
function linkChains(entries: readonly DeadLetterEntry[]): void {
  const chains = new Map<string, DeadLetterEntry[]>();
  for (const entry of entries) {
    if (entry.status !== 'pending' || entry.failure.parked === undefined || entry.record.key === null)
      continue;
    const id = `${entry.failure.sourceTopic}\u0000${entry.record.key}`;
    const chain = chains.get(id) ?? [];
    chain.push(entry);
    chains.set(id, chain);
  }
  for (const chain of chains.values()) {
    chain.sort((a, b) => Number(a.failure.sourceOffset - b.failure.sourceOffset));
    const [head, ...behind] = chain;
    head!.parkedBehind = behind.length;
    for (const entry of behind) entry.parkedBehindEntry = head!.id;
  }
}
