import type { Logger } from 'pino';
import { z } from 'zod';
import { createPublisher } from '../../bus/publisher.ts';
import { parseOptions } from '../../errors/options.ts';
import { createCatalog } from '../../events/catalog.ts';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { defineTopic } from '../../events/define-topic.ts';
import { fromRecord } from '../../events/kafka-binding.ts';
import type { Consumer, StoredRecord, Transport } from '../../transport/transport.ts';
import { AnalyticsTopic, AnomalyDetected, WindowClosed } from '../analytics-events.ts';
import { createRobustZScoreDetector, type DetectorOptions } from '../anomalies/robust-z-score.ts';
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
  /** Judge each closed window's rate and mean against the group's history (robust z-score); default off. */
  anomalies: z.union([z.literal(false), z.custom<DetectorOptions>(isObject)]).default(false),
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

/** A window figure outside its expected band. */
export interface Anomaly {
  window: string;
  key: string;
  measure: 'rate' | 'mean';
  value: number;
  score: number;
  expected: { low: number; high: number };
  start: number;
  end: number;
}

/** Runs windows over topics: results published as events and kept for queries. */
export interface WindowEngine {
  /** Applies one event (what the consumer loop does for each record); returns the windows it closed. */
  apply(event: CloudEvent, topic: string): WindowResult[];
  /** Anomalies found in closed windows, oldest first (the last `retain`). */
  anomalies(window?: string): Anomaly[];
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
    events: [WindowClosed, AnomalyDetected],
  });
  const publisher = createPublisher({
    transport: settings.transport,
    catalog: createCatalog({ topics: [resultTopic] }),
    source: settings.source,
    name: 'analytics-windows',
  });
  const detector = settings.anomalies === false ? undefined : createRobustZScoreDetector(settings.anomalies);
  const found: Anomaly[] = [];
  // Anomalies of the current batch, for the consumer loop to publish.
  const unpublished: Anomaly[] = [];
  const judge = (result: WindowResult): Anomaly[] => {
    if (detector === undefined) return [];
    const measures: ['rate' | 'mean', number | undefined][] = [
      ['rate', result.rate],
      ['mean', result.mean],
    ];
    const out: Anomaly[] = [];
    for (const [measure, value] of measures) {
      if (value === undefined) continue;
      const verdict = detector.observe(`${result.window}\u0000${result.key}\u0000${measure}`, value);
      if (verdict.anomaly && verdict.expected)
        out.push({
          window: result.window,
          key: result.key,
          measure,
          value,
          score: verdict.score,
          expected: verdict.expected,
          start: result.start,
          end: result.end,
        });
    }
    return out;
  };
  const keep = (results: readonly WindowResult[]): void => {
    for (const result of results) {
      const anomalies = judge(result);
      found.push(...anomalies);
      unpublished.push(...anomalies);
      if (found.length > settings.retain) found.splice(0, found.length - settings.retain);
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
  // Why consuming stopped, if it failed: logged at once and thrown by `close`.
  let failure: unknown;
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
        for (const a of unpublished.splice(0)) {
          const { start, end, ...rest } = a;
          await publisher.publish(
            AnomalyDetected,
            { ...rest, start: new Date(start).toISOString(), end: new Date(end).toISOString() },
            { id: matchId(`anomaly:${a.window}`, [a.key, a.measure, String(start)]) },
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
    anomalies: (window) => found.filter((a) => window === undefined || a.window === window),
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
        failure = error;
        settings.logger?.error({ err: error }, 'window engine stopped consuming');
      });
    },
    async close() {
      stopping = true;
      await loop;
      await consumer?.close();
      await publisher.close();
      if (failure !== undefined) throw failure;
    },
  };
}
