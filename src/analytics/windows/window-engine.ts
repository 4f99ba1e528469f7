import type { Logger } from 'pino';
import { z } from 'zod';
import { createPublisher } from '../../bus/publisher.ts';
import { parseOptions } from '../../errors/options.ts';
import { createCatalog } from '../../events/catalog.ts';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { defineTopic } from '../../events/define-topic.ts';
import { fromRecord } from '../../events/kafka-binding.ts';
import type { Consumer, StoredRecord, Transport } from '../../transport/transport.ts';
import { AnalyticsTopic, WindowClosed } from '../analytics-events.ts';
import { matchId } from '../patterns/match-id.ts';
import { createWindowAggregator, type WindowAggregator, type WindowResult } from './window-aggregator.ts';
import { compileWindows } from './window-spec.ts';

const isObject = (value: unknown): boolean => typeof value === 'object' && value !== null;

const windowEngineOptionsSchema = z.object({
  transport: z.custom<Transport>(isObject, { error: 'expected a transport' }),
  /** Topics read. */
  topics: z.array(z.string().min(1)).min(1),
  /** The windows, as data (see `windowSpecSchema`). */
  windows: z.array(z.unknown()),
  /** Consumer group; default `keel-analytics-windows`. */
  group: z.string().min(1).default('keel-analytics-windows'),
  /** Topic the results are published to; default `keel.analytics`. */
  topic: z.string().min(1).default(AnalyticsTopic.name),
  source: z.string().min(1).default('urn:keel:analytics'),
  /** Results kept per window for `query`; default 10 000 (the oldest go first). */
  retain: z.number().int().positive().default(10_000),
  /** Publish results as `keel.analytics.window.closed`; default true. */
  publish: z.boolean().default(true),
  logger: z.custom<Logger>(isObject).optional(),
});

/** What a window engine needs. */
export type WindowEngineOptions = z.input<typeof windowEngineOptionsSchema>;

/** Which results `query` returns. */
export interface WindowQuery {
  key?: string;
  /** Windows starting at or after, milliseconds since the epoch. */
  from?: number;
  /** Windows ending at or before. */
  to?: number;
}

/** Runs windows over topics: results published as events and kept for queries. */
export interface WindowEngine {
  /** Applies one event (what the consumer loop does for each record); returns the windows it closed. */
  apply(event: CloudEvent, topic: string): WindowResult[];
  /** Results of one window, oldest first. */
  query(window: string, query?: WindowQuery): WindowResult[];
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Makes a window engine. Windows run on event time in memory: results are published once event time passes
 * a window's end (plus its lateness), with ids derived from window, group and start, so a window computed
 * again after a restart carries the same id. Partial windows are not kept across restarts.
 */
export function createWindowEngine(options: WindowEngineOptions): WindowEngine {
  const settings = parseOptions(windowEngineOptionsSchema, options, 'windowEngine');
  const aggregators: WindowAggregator[] = compileWindows(settings.windows).map(createWindowAggregator);
  const kept = new Map<string, WindowResult[]>(aggregators.map((a) => [a.window.id, []]));
  const resultTopic = defineTopic({
    name: settings.topic,
    partitions: AnalyticsTopic.partitions,
    events: [WindowClosed],
  });
  const publisher = createPublisher({
    transport: settings.transport,
    catalog: createCatalog({ topics: [resultTopic] }),
    source: settings.source,
    name: 'analytics-windows',
  });
  const keep = (results: readonly WindowResult[]): void => {
    for (const result of results) {
      const list = kept.get(result.window)!;
      list.push(result);
      if (list.length > settings.retain) list.splice(0, list.length - settings.retain);
    }
  };
  const apply = (event: CloudEvent, topic: string): WindowResult[] => {
    const time = Date.parse(event.time ?? '');
    if (Number.isNaN(time)) return [];
    const closed: WindowResult[] = [];
    for (const aggregator of aggregators) {
      const { window } = aggregator;
      if (!window.takes(event)) continue;
      const key = window.groupOf(event, topic);
      if (key !== undefined) closed.push(...aggregator.add(time, key, window.valueOf?.(event)));
    }
    keep(closed);
    return closed;
  };
  let consumer: Consumer | undefined;
  let loop: Promise<void> | undefined;
  let stopping = false;
  const consume = async (member: Consumer): Promise<void> => {
    while (!stopping) {
      const records: StoredRecord[] = await member.poll(200);
      const closed = records.flatMap((record) => apply(fromRecord(record), record.topic));
      if (settings.publish) {
        for (const r of closed) {
          const { start, end, ...rest } = r;
          await publisher.publish(
            WindowClosed,
            { ...rest, start: new Date(start).toISOString(), end: new Date(end).toISOString() },
            { id: matchId(`window:${r.window}`, [r.key, String(start)]) },
          );
        }
      }
      if (records.length > 0) {
        const last = new Map(records.map((r) => [`${r.topic}\u0000${r.partition}`, r]));
        await member.commit(
          [...last.values()].map((r) => ({ topic: r.topic, partition: r.partition, offset: r.offset + 1n })),
        );
      }
    }
  };
  return {
    apply,
    query(window, query = {}) {
      return (kept.get(window) ?? []).filter(
        (r) =>
          (query.key === undefined || r.key === query.key) &&
          (query.from === undefined || r.start >= query.from) &&
          (query.to === undefined || r.end <= query.to),
      );
    },
    async start() {
      if (settings.publish)
        await settings.transport.ensureTopics([
          { name: resultTopic.name, partitions: resultTopic.partitions },
        ]);
      consumer = settings.transport.consumer({ group: settings.group, topics: settings.topics });
      const member = consumer;
      loop = consume(member).catch((error: unknown) => {
        settings.logger?.error({ err: error }, 'window engine stopped consuming');
      });
    },
    async close() {
      stopping = true;
      await loop;
      await consumer?.close();
      await publisher.close();
    },
  };
}
