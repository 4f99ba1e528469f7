import type { CloudEvent } from '../events/cloud-event.ts';
import { createEvent, validateEventData } from '../events/create-event.ts';
import { parseCloudEvent } from '../events/envelope.ts';
import { ValidationError } from '../events/errors.ts';
import { toRecord } from '../events/kafka-binding.ts';
import type { OutgoingRecord, PartitionWrite } from '../transport/transport.ts';
import { atBatchIndex, EventTooLargeError } from './errors.ts';
import { partitionForKey } from './partitioner.ts';
import type { Publisher, PublisherOptions, PublishOptions, PublishReceipt } from './types.ts';

/** Default largest encoded event, in bytes (1 MiB, Kafka's default `max.message.bytes`). */
export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;

interface PlacedEvent {
  event: CloudEvent;
  topic: string;
  partition: number;
  record: OutgoingRecord;
}

/** Creates a publisher: it validates, fills the envelope, picks topic and partition, and appends durably. */
export function createPublisher(options: PublisherOptions): Publisher {
  const { transport, catalog, metrics } = options;
  const maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
  // Keyless events rotate over partitions, per topic, as Kafka's round-robin partitioner does.
  const nextKeyless = new Map<string, number>();

  const place = (event: CloudEvent): PlacedEvent => {
    const { topic } = catalog.route(event.type);
    const key = event.partitionkey;
    let partition: number;
    if (key !== undefined) {
      partition = partitionForKey(key, topic.partitions);
    } else {
      partition = nextKeyless.get(topic.name) ?? 0;
      nextKeyless.set(topic.name, (partition + 1) % topic.partitions);
    }
    // Every event reaching here was checked by createEvent, validateEventData or parseCloudEvent.
    const record = toRecord(event, { validated: true });
    const size = encodedSize(record);
    if (size > maxEventBytes) throw new EventTooLargeError(event.id, event.type, size, maxEventBytes);
    return { event, topic: topic.name, partition, record };
  };

  const append = async (placed: readonly PlacedEvent[]): Promise<PublishReceipt[]> => {
    const started = performance.now();
    const writes = new Map<string, PartitionWrite & { records: OutgoingRecord[]; members: number[] }>();
    placed.forEach((item, index) => {
      const id = `${item.topic}\u0000${item.partition}`;
      let write = writes.get(id);
      if (!write) {
        write = { topic: item.topic, partition: item.partition, records: [], members: [] };
        writes.set(id, write);
      }
      write.records.push(item.record);
      write.members.push(index);
    });
    const ordered = [...writes.values()];
    let offsets: bigint[][];
    try {
      offsets = await transport.append(ordered);
    } catch (error) {
      for (const item of placed) {
        metrics?.publishErrors.inc({ type: item.event.type, reason: errorCode(error) });
      }
      throw error;
    }
    const receipts = new Array<PublishReceipt>(placed.length);
    ordered.forEach((write, w) => {
      write.members.forEach((index, r) => {
        const item = placed[index]!;
        receipts[index] = {
          id: item.event.id,
          type: item.event.type,
          topic: item.topic,
          partition: item.partition,
          offset: offsets[w]![r]!,
        };
      });
    });
    if (metrics) {
      const seconds = (performance.now() - started) / 1000;
      for (const item of placed) {
        metrics.eventPublished.inc({ type: item.event.type, topic: item.topic });
        metrics.publishDuration.observe({ topic: item.topic }, seconds);
      }
    }
    return receipts;
  };

  const rejected = (error: unknown, type: string): never => {
    metrics?.publishErrors.inc({ type, reason: errorCode(error) });
    throw error;
  };

  return {
    async publish(definition, data, publishOptions = {}) {
      let placed: PlacedEvent;
      try {
        const event = createEvent(definition, data, {
          ...publishOptions,
          source: publishOptions.source ?? options.source,
        });
        placed = place(event);
      } catch (error) {
        return rejected(error, definition.type);
      }
      const [receipt] = await append([placed]);
      return receipt!;
    },

    async publishMany(definition, data, publishOptions = {}) {
      const source = publishOptions.source ?? options.source;
      const placed = data.map((item, index) => {
        try {
          // Options typed without `id` may still carry one at run time; one id for many events would collide.
          const { id: _, ...shared } = publishOptions as PublishOptions;
          return place(createEvent(definition, item, { ...shared, source }));
        } catch (error) {
          return rejected(data.length > 1 ? inBatch(error, index) : error, definition.type);
        }
      });
      return placed.length === 0 ? [] : append(placed);
    },

    async publishEvents(events) {
      const placed = events.map((input, index) => {
        try {
          const { definition } = catalog.route(input.type);
          let event = definition ? validateEventData(definition, input) : parseCloudEvent(input);
          // An event posted without a key gets the one its definition picks, so HTTP ingestion keeps per-key order too.
          const key = event.partitionkey ?? definition?.partitionKey?.(event.data as never);
          if (key !== undefined && event.partitionkey === undefined) event = { ...event, partitionkey: key };
          return place(event);
        } catch (error) {
          return rejected(events.length > 1 ? inBatch(error, index) : error, input.type);
        }
      });
      return placed.length === 0 ? [] : append(placed);
    },
  };
}

/** Bytes a record takes on the wire: payload, key and headers. */
function encodedSize(record: OutgoingRecord): number {
  let size = (record.value?.byteLength ?? 0) + Buffer.byteLength(record.key ?? '');
  for (const [name, value] of Object.entries(record.headers)) size += name.length + Buffer.byteLength(value);
  return size;
}

function inBatch(error: unknown, index: number): unknown {
  if (error instanceof ValidationError) {
    const issues = error.issues.map((issue) => ({
      ...issue,
      path: `[${index}]${issue.path ? `.${issue.path}` : ''}`,
    }));
    return atBatchIndex(new ValidationError(`event [${index}] is invalid`, issues, error.eventType), index);
  }
  return error instanceof Error ? atBatchIndex(error, index) : error;
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : 'unknown';
}
