import { KeelError } from '../../errors/keel-error.ts';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { createEvent } from '../../events/create-event.ts';
import { fromRecord, toRecord } from '../../events/kafka-binding.ts';
import type { KeelMetrics } from '../../observability/metrics.ts';
import type { StoredRecord, Transport } from '../../transport/transport.ts';
import { DeadLetterDiscarded, DeadLetterRetried } from '../system-events.ts';
import { type FailureInfo, failureOf, originalHeaders } from './failure-headers.ts';
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
  /** Republishes pending entries (one id, or every match of a filter) to their source topics unchanged; resolves with the ids retried. */
  retry(target: string | DeadLetterFilter, options?: { by?: string }): Promise<string[]>;
  /** Discards pending entries with a reason; resolves with the ids discarded. */
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

  const scan = async (): Promise<DeadLetterEntry[]> => {
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
    return [...entries.values()].sort(
      (a, b) => a.record.partition - b.record.partition || Number(a.record.offset - b.record.offset),
    );
  };

  const matches = (entry: DeadLetterEntry, filter: DeadLetterFilter) =>
    (filter.eventType === undefined || entry.eventType === filter.eventType) &&
    (filter.errorType === undefined || entry.failure.errorType === filter.errorType) &&
    (filter.handler === undefined || entry.failure.handler === filter.handler) &&
    (filter.sourceTopic === undefined || entry.failure.sourceTopic === filter.sourceTopic) &&
    (filter.status === undefined || entry.status === filter.status) &&
    (filter.from === undefined || entry.failure.lastFailureAt >= filter.from) &&
    (filter.to === undefined || entry.failure.lastFailureAt < filter.to);

  const targets = async (target: string | DeadLetterFilter): Promise<DeadLetterEntry[]> => {
    const all = await scan();
    if (typeof target !== 'string') return all.filter((e) => e.status === 'pending' && matches(e, target));
    const entry = all.find((e) => e.id === target);
    if (!entry) throw new DeadLetterEntryNotFoundError(target, topic);
    if (entry.status !== 'pending') throw new DeadLetterEntryClosedError(target, entry.status);
    return [entry];
  };

  const recordAction = async (event: CloudEvent) => {
    await transport.append([{ topic, partition: 0, records: [toRecord(event, { validated: true })] }]);
  };
  const by = (options: { by?: string }) => (options.by === undefined ? {} : { by: options.by });

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
      const chosen = await targets(target);
      for (const entry of chosen) {
        const { sourceTopic, sourcePartition } = entry.failure;
        // Unchanged: same key, value and CloudEvents headers, to the partition it came from.
        await transport.append([
          {
            topic: sourceTopic,
            partition: sourcePartition,
            records: [
              {
                key: entry.record.key,
                value: entry.record.value,
                headers: originalHeaders(entry.record.headers),
              },
            ],
          },
        ]);
        await recordAction(
          createEvent(
            DeadLetterRetried,
            { group, entryId: entry.id, eventId: entry.eventId ?? '', sourceTopic, ...by(actionOptions) },
            { source },
          ),
        );
        metrics?.dlqRetries.inc({ group });
      }
      return chosen.map((e) => e.id);
    },
    async discard(target, reason, actionOptions = {}) {
      const chosen = await targets(target);
      for (const entry of chosen) {
        await recordAction(
          createEvent(
            DeadLetterDiscarded,
            { group, entryId: entry.id, eventId: entry.eventId ?? '', reason, ...by(actionOptions) },
            { source },
          ),
        );
      }
      return chosen.map((e) => e.id);
    },
  };
}
