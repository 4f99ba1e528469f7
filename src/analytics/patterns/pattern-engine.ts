import type { Logger } from 'pino';
import { z } from 'zod';
import { createPublisher } from '../../bus/publisher.ts';
import type { Publisher } from '../../bus/publisher-port.ts';
import { parseOptions } from '../../errors/options.ts';
import { type Catalog, createCatalog } from '../../events/catalog.ts';
import { defineTopic } from '../../events/define-topic.ts';
import { fromRecord } from '../../events/kafka-binding.ts';
import { openSqlite } from '../../sql/sqlite/open-sqlite.ts';
import type { Consumer, OffsetCommit, StoredRecord, Transport } from '../../transport/transport.ts';
import { AnalyticsTopic, PatternMatched } from '../analytics-events.ts';
import { RuleInvalidError } from '../errors.ts';
import { applyEvent, closeAbsences, type Match } from './apply-event.ts';
import { type CompiledRule, compileRules } from './compile-rules.ts';
import { matchId } from './match-id.ts';
import { createPatternState, type PatternState } from './sqlite-state.ts';

const isObject = (value: unknown): boolean => typeof value === 'object' && value !== null;

const patternEngineOptionsSchema = z.object({
  transport: z.custom<Transport>(isObject, { error: 'expected a transport' }),
  /** Catalog holding the event types the rules name. */
  catalog: z.custom<Catalog>(isObject, { error: 'expected a catalog' }),
  /** The rules, as data (see `ruleSpecSchema`). */
  rules: z.array(z.unknown()),
  /** SQLite file of the rules' state, checkpoints and unpublished matches. */
  statePath: z.string().min(1),
  /** Consumer group the rules run in; default `keel-analytics`. */
  group: z.string().min(1).default('keel-analytics'),
  /** Topic the matches are published to; default `keel.analytics`. */
  topic: z.string().min(1).default(AnalyticsTopic.name),
  /** CloudEvents `source` of the matches; default `urn:keel:analytics`. */
  source: z.string().min(1).default('urn:keel:analytics'),
  /** Milliseconds of wall clock past an absence's deadline after which it matches with no later event; default 60 000. */
  absenceLatenessMs: z.number().int().nonnegative().default(60_000),
  /** Milliseconds between wall-clock checks of absence deadlines and retries of unpublished matches; default 1 000. */
  timerIntervalMs: z.number().int().positive().default(1_000),
  /** Most records applied in one transaction; default 500. */
  batchSize: z.number().int().positive().default(500),
  /** `full` (default) or `normal` SQLite durability of the state file. */
  synchronous: z.enum(['full', 'normal']).default('full'),
  logger: z.custom<Logger>(isObject).optional(),
});

/** What a pattern engine needs. */
export type PatternEngineOptions = z.input<typeof patternEngineOptionsSchema>;

/** Runs pattern rules in a consumer group of the transport and publishes `keel.analytics.pattern.matched`. */
export interface PatternEngine {
  /** The compiled rules, in declaration order. */
  readonly rules: readonly CompiledRule[];
  start(): Promise<void>;
  /** Stops consuming, publishes what is recorded, and closes the state file (the transport stays open). */
  close(): Promise<void>;
}

/**
 * Makes a pattern engine. Each event is applied to the rules in one SQLite transaction that also records
 * the matches it completes (an outbox) and the partition's next offset; an event at an offset already
 * applied (redelivered after a crash) changes nothing. Matches are then published with ids derived from
 * their events, so one republished after a crash carries the same id. Rules that do not parse throw
 * `RuleInvalidError` here, naming each problem.
 */
export function createPatternEngine(options: PatternEngineOptions): PatternEngine {
  const settings = parseOptions(patternEngineOptionsSchema, options, 'patternEngine');
  const rules = compileRules(settings.rules);
  const definitions = eventDefinitions(rules, settings.catalog);
  const types = new Set(definitions.map((d) => d.type));
  const state = createPatternState(
    openSqlite({ path: settings.statePath, synchronous: settings.synchronous }),
  );
  const matchTopic = defineTopic({
    name: settings.topic,
    partitions: AnalyticsTopic.partitions,
    events: [PatternMatched],
  });
  const publisher = createPublisher({
    transport: settings.transport,
    catalog: createCatalog({ topics: [matchTopic] }),
    source: settings.source,
    name: 'analytics',
  });
  const flusher = createFlusher(state, publisher, settings.logger);
  // One transaction per polled batch: the rules' state, the matches and each partition's next offset move
  // together, and a record below its partition's checkpoint (redelivered after a crash) is skipped.
  const applyBatch = state.db.transaction((records: readonly StoredRecord[]) => {
    for (const record of records) {
      const next = state.nextOffset(record.topic, record.partition);
      if (next !== undefined && record.offset < next) continue;
      // The ce_type header (binary mode) spares decoding events no rule names.
      const type = record.headers.ce_type;
      if (type === undefined || types.has(type)) {
        const event = fromRecord(record);
        if (types.has(event.type))
          recordMatches(applyEvent(rules, state, event, `${record.topic}/${record.partition}`));
      }
      state.setNextOffset(record.topic, record.partition, record.offset + 1n);
    }
  });
  const recordMatches = (matches: readonly Match[]): void => {
    for (const match of matches) state.enqueue(matchId(match.rule, match.eventIds), JSON.stringify(match));
  };
  const closeByClock = state.db.transaction((now: number) => {
    for (const rule of rules) {
      if (rule.kind === 'absence')
        recordMatches(closeAbsences(rule, state, undefined, now - settings.absenceLatenessMs));
    }
  });
  const topics = [...new Set(definitions.map((d) => settings.catalog.route(d.type).topic.name))];
  let consumer: Consumer | undefined;
  let loop: Promise<void> | undefined;
  let stopping = false;
  // Why consuming stopped, if it failed: logged at once and thrown by `close`.
  let failure: unknown;
  let timer: NodeJS.Timeout | undefined;
  const consume = async (member: Consumer): Promise<void> => {
    while (!stopping) {
      const records = await member.poll(200);
      if (records.length === 0) continue;
      applyBatch(records);
      await flusher.flush();
      // The state file is the record of progress; the group's offsets only save re-reading after a restart.
      await member
        .commit(nextOffsets(records))
        .catch((error: unknown) => settings.logger?.warn({ err: error }, 'offset commit failed'));
    }
  };
  return {
    rules,
    async start() {
      await settings.transport.ensureTopics([{ name: matchTopic.name, partitions: matchTopic.partitions }]);
      await flusher.flush();
      consumer = settings.transport.consumer({
        group: settings.group,
        topics,
        maxRecords: settings.batchSize,
      });
      const member = consumer;
      loop = consume(member).catch((error: unknown) => {
        failure = error;
        // Nothing is lost: the state file and the group's offsets resume where this stopped, on restart.
        settings.logger?.error({ err: error }, 'pattern engine stopped consuming');
      });
      timer = setInterval(() => {
        closeByClock(Date.now());
        void flusher.flush();
      }, settings.timerIntervalMs);
    },
    async close() {
      stopping = true;
      clearInterval(timer);
      await loop?.catch(() => undefined);
      await consumer?.close();
      await flusher.flush();
      await publisher.close();
      state.db.close();
      if (failure !== undefined) throw failure;
    },
  };
}

function nextOffsets(records: readonly StoredRecord[]): OffsetCommit[] {
  const next = new Map<string, OffsetCommit>();
  for (const r of records)
    next.set(`${r.topic}\u0000${r.partition}`, {
      topic: r.topic,
      partition: r.partition,
      offset: r.offset + 1n,
    });
  return [...next.values()];
}

function eventDefinitions(rules: readonly CompiledRule[], catalog: Catalog) {
  const types = new Map<string, string>();
  rules.forEach((rule, index) => {
    const steps =
      rule.kind === 'sequence'
        ? { first: rule.first, next: rule.next }
        : rule.kind === 'absence'
          ? { first: rule.first, missing: rule.missing }
          : { on: rule.on };
    for (const [step, matcher] of Object.entries(steps)) {
      if (!types.has(matcher.type)) types.set(matcher.type, `rules[${index}].${step}.type`);
    }
  });
  const unknown = [...types].filter(([type]) => catalog.event(type) === undefined);
  if (unknown.length > 0) {
    throw new RuleInvalidError(
      unknown.map(([type, path]) => ({ path, message: `event type ${type} is not in the catalog` })),
    );
  }
  return [...types.keys()].map((type) => catalog.event(type)!);
}

/** Publishes recorded matches in order, one flush at a time; a failed publish stays recorded and is retried. */
function createFlusher(state: PatternState, publisher: Publisher, logger: Logger | undefined) {
  let running: Promise<void> | undefined;
  let again = false;
  const drain = async (): Promise<void> => {
    for (let batch = state.outbox(100); batch.length > 0; batch = state.outbox(100)) {
      for (const row of batch) {
        const match = JSON.parse(row.match) as Match;
        await publisher.publish(
          PatternMatched,
          {
            rule: match.rule,
            kind: match.kind,
            key: match.key,
            eventIds: match.eventIds,
            at: new Date(match.at).toISOString(),
          },
          { id: row.id },
        );
      }
      state.dequeue(batch.at(-1)!.seq);
    }
  };
  const flush = async (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await drain();
        } while (again);
      } catch (error) {
        logger?.warn({ err: error }, 'publishing pattern matches failed; they stay recorded and are retried');
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
  return { flush };
}
