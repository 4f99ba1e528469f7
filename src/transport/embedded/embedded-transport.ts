import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { z } from 'zod';
import { parseOptions } from '../../errors/options.ts';
import { topicCompressions } from '../../events/define-topic.ts';
import { TransportClosedError, UnknownTopicError } from '../errors.ts';
import { anObject, nonNegativeInt } from '../option-schemas.ts';
import { partitionLag } from '../partition-lag.ts';
import { validateTopicConfig } from '../topic-config.ts';
import type {
  MatchingRead,
  MatchingReadRequest,
  PartitionLag,
  PartitionOffsets,
  PartitionWrite,
  StoredRecord,
  TopicCompression,
  TopicConfig,
  Transport,
  TransportCapabilities,
} from '../transport.ts';
import { createChangeWatcher } from './change-watcher.ts';
import { openDatabase } from './database.ts';
import type { EmbeddedConsumer } from './embedded-consumer.ts';
import { createEmbeddedConsumer } from './embedded-consumer.ts';
import type { PartitionBatch } from './group-commit.ts';
import { createGroupCommit } from './group-commit.ts';
import { createMaintenance, type Maintenance } from './maintenance.ts';
import { decodeRecord, encodeRecord } from './record-codec.ts';
import { prepareAppendStatements } from './sql/append-statements.ts';
import type { GroupStatements } from './sql/group-statements.ts';
import { prepareGroupStatements } from './sql/group-statements.ts';
import { prepareMaintenanceStatements } from './sql/maintenance-statements.ts';
import {
  type MatchingReadStatements,
  prepareMatchingReadStatements,
} from './sql/matching-read-statements.ts';
import type { ReadStatements } from './sql/read-statements.ts';
import { prepareReadStatements } from './sql/read-statements.ts';
import type { TopicRow, TopicStatements } from './sql/topic-statements.ts';
import { prepareTopicStatements } from './sql/topic-statements.ts';

/** How to open the embedded transport. */
export interface EmbeddedTransportOptions {
  /** SQLite file (created when missing; other processes may open the same one), or `:memory:`. */
  path: string;
  /** `full` (default) fsyncs every commit and survives power loss; `normal` survives process crashes only. */
  synchronous?: 'normal' | 'full';
  /** Where diagnostics go; default silent. */
  logger?: Logger;
  /** Milliseconds between checks for other processes' commits while a consumer waits in `poll`; default 2. */
  pollIntervalMs?: number;
  /** Milliseconds between retention and compaction runs; default 60 000; 0 runs them only on `maintain()`. */
  maintenanceIntervalMs?: number;
  /** Milliseconds a writer waits for another process's write transaction before failing; default 5 000. */
  busyTimeoutMs?: number;
  /** Milliseconds a tombstone (newest record of its key) survives compaction; default 86 400 000 (Kafka's `delete.retention.ms`). */
  tombstoneRetentionMs?: number;
  /**
   * Codec of record values on topics created without their own `compression` (Kafka's producer codec);
   * default `none`. Each value is compressed on its own, and kept plain when that does not make it smaller.
   */
  compression?: TopicCompression;
}

/** The embedded transport: the port, plus what a test or a supervisor needs on top. */
export interface EmbeddedTransport extends Transport {
  /** The SQLite file this transport writes. */
  readonly path: string;
  /** Always offered: conditions are checked with SQLite's JSON functions where the records are. */
  readMatching: NonNullable<Transport['readMatching']>;
  /**
   * Drops everything at once, like a killed process: pending appends are rejected unwritten,
   * consumers stop heartbeating without leaving their groups (they expire after their session timeout).
   */
  abort(): void;
  /** Same as `close`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

const capabilities: TransportCapabilities = Object.freeze({
  atomicMultiPartitionAppend: true,
  onDemandMaintenance: true,
});

/** The embedded transport's options (`EmbeddedTransportOptions`) with their defaults. */
export const embeddedTransportOptionsSchema = z.object({
  path: z
    .string({ error: 'must be a file path or :memory:' })
    .min(1, { error: 'must be a file path or :memory:' }),
  synchronous: z.enum(['normal', 'full']).default('full'),
  logger: anObject<Logger>('a pino logger').optional(),
  pollIntervalMs: nonNegativeInt.default(2),
  maintenanceIntervalMs: nonNegativeInt.default(60_000),
  busyTimeoutMs: nonNegativeInt.default(5_000),
  tombstoneRetentionMs: nonNegativeInt.default(86_400_000),
  compression: z
    .enum(topicCompressions, { error: `must be one of ${topicCompressions.join(', ')}` })
    .default('none'),
});

/** Which topics and partitions exist; topics never change once created (there is no delete), so found ones are cached for good. */
interface TopicLookup {
  topic(name: string): TopicRow | undefined;
  existingTopic(name: string): TopicRow;
  existingPartition(name: string, partition: number): TopicRow;
}

/** Creates the topic lookup on the topics table. */
function createTopicLookup(topicSql: TopicStatements): TopicLookup {
  const topicCache = new Map<string, TopicRow>();
  const topic = (name: string): TopicRow | undefined => {
    let row = topicCache.get(name);
    if (row === undefined) {
      row = topicSql.byName(name);
      if (row !== undefined) topicCache.set(name, row);
    }
    return row;
  };
  const existingTopic = (name: string): TopicRow => {
    const row = topic(name);
    if (row === undefined) throw new UnknownTopicError(name);
    return row;
  };
  return {
    topic,
    existingTopic,
    existingPartition: (name, partition) => {
      const row = existingTopic(name);
      if (!Number.isInteger(partition) || partition < 0 || partition >= row.partitions) {
        throw new UnknownTopicError(name, partition);
      }
      return row;
    },
  };
}

/** Creates the topics that do not exist yet, in one transaction; true when any was created. */
function prepareCreateTopics(db: Database, topicSql: TopicStatements) {
  return db.transaction((configs: readonly TopicConfig[]): boolean => {
    let created = false;
    for (const config of configs) {
      created =
        topicSql.create({
          name: config.name,
          partitions: config.partitions,
          retentionMs: config.retentionMs ?? null,
          retentionBytes: config.retentionBytes ?? null,
          compacted: config.compacted === true,
          compression: config.compression ?? null,
          createdAt: Date.now(),
        }) || created;
    }
    return created;
  });
}

/** Runs retention and compaction every `intervalMs` milliseconds (none when 0); failures are logged. */
function scheduleMaintenance(maintenance: Maintenance, intervalMs: number, logger: Logger) {
  if (intervalMs <= 0) return undefined;
  return setInterval(() => {
    try {
      maintenance.run();
    } catch (error) {
      logger.warn({ err: error }, 'embedded transport: maintenance failed');
    }
  }, intervalMs).unref();
}

/** The topic in the port's terms. */
function topicConfig(row: TopicRow): TopicConfig {
  const config: TopicConfig = { name: row.name, partitions: row.partitions, compacted: row.compacted };
  if (row.retentionMs !== null) config.retentionMs = row.retentionMs;
  if (row.retentionBytes !== null) config.retentionBytes = row.retentionBytes;
  if (row.compression !== null) config.compression = row.compression;
  return config;
}

/**
 * The writes checked (each partition exists) and encoded for the group commit, stamped with one time,
 * values compressed with the topic's codec or else `compression`.
 */
function encodeWrites(
  writes: readonly PartitionWrite[],
  existingPartition: (topic: string, partition: number) => TopicRow,
  compression: TopicCompression,
): PartitionBatch[] {
  const now = Date.now();
  return writes.map((write) => {
    const row = existingPartition(write.topic, write.partition);
    const codec = row.compression ?? compression;
    return {
      topicId: row.id,
      partition: write.partition,
      records: write.records.map((record) => encodeRecord(record, now, codec)),
    };
  });
}

/** `readMatching` of one partition: the candidates SQLite kept, decoded, and where the next look starts. */
async function readMatching(
  reads: ReadStatements,
  matchingReads: MatchingReadStatements,
  row: TopicRow,
  partition: number,
  fromOffset: bigint,
  request: MatchingReadRequest,
): Promise<MatchingRead> {
  if (typeof fromOffset !== 'bigint') throw new TypeError('readMatching: fromOffset must be a bigint');
  if (request.maxScan <= 0 || request.maxRecords <= 0) return { records: [], scanned: 0, next: fromOffset };
  const found = matchingReads.read(row.id, partition, fromOffset, request);
  const bounds = reads.bounds(row.id, partition);
  const after = found.lastLooked === undefined ? fromOffset : found.lastLooked + 1n;
  return {
    records: found.rows.map((stored) => decodeRecord(row.name, partition, stored)),
    scanned: found.scanned,
    next: bounds !== undefined && after < bounds.logEnd ? after : null,
  };
}

function topicOffsets(reads: ReadStatements, name: string, row: TopicRow): PartitionOffsets[] {
  return reads.allBounds(row.id).map(
    (b): PartitionOffsets => ({
      topic: name,
      partition: b.partition,
      earliest: b.logStart,
      latest: b.logEnd,
    }),
  );
}

/** A group's committed offsets and lag on every partition of its topics. */
function groupLag(
  reads: ReadStatements,
  groups: GroupStatements,
  group: string,
  names: readonly string[],
  existingTopic: (name: string) => TopicRow,
): PartitionLag[] {
  const lags: PartitionLag[] = [];
  for (const name of names) {
    const row = existingTopic(name);
    const committed = groups.committedForTopic(group, row.id);
    for (const bounds of reads.allBounds(row.id)) {
      const offset = committed.get(bounds.partition) ?? null;
      lags.push(partitionLag(name, bounds.partition, offset, bounds.logStart, bounds.logEnd));
    }
  }
  return lags;
}

/** Opens the embedded transport: a partitioned log with consumer groups in one SQLite file (WAL mode). */
export function createEmbeddedTransport(options: EmbeddedTransportOptions): EmbeddedTransport {
  const settings = parseOptions(embeddedTransportOptionsSchema, options, 'embedded');
  const logger = (settings.logger ?? pino({ level: 'silent' })).child({ transport: 'embedded' });
  const { path } = settings;
  const db = openDatabase({ path, synchronous: settings.synchronous, busyTimeoutMs: settings.busyTimeoutMs });
  const topicSql = prepareTopicStatements(db);
  const reads = prepareReadStatements(db);
  const matchingReads = prepareMatchingReadStatements(db);
  const groups = prepareGroupStatements(db);
  const watcher = createChangeWatcher({
    db,
    // Transports on the same file in this process wake each other; `:memory:` databases are private.
    key: path === ':memory:' ? `:memory:${randomUUID()}` : resolve(path),
    pollIntervalMs: settings.pollIntervalMs,
  });
  const writer = createGroupCommit({
    db,
    statements: prepareAppendStatements(db),
    logger,
    onCommit: watcher.notify,
  });
  const maintenance = createMaintenance({
    db,
    topics: topicSql,
    statements: prepareMaintenanceStatements(db),
    logger,
    tombstoneRetentionMs: settings.tombstoneRetentionMs,
  });
  const { topic, existingTopic, existingPartition } = createTopicLookup(topicSql);
  const createTopics = prepareCreateTopics(db, topicSql);
  const maintenanceTimer = scheduleMaintenance(maintenance, settings.maintenanceIntervalMs, logger);
  const consumers = new Set<EmbeddedConsumer>();
  let state: 'open' | 'closing' | 'closed' = 'open';
  let closing: Promise<void> | undefined;

  const ensureOpen = (operation: string): void => {
    if (state === 'closed') throw new TransportClosedError(operation);
  };
  const shutdown = (): void => {
    state = 'closed';
    if (maintenanceTimer !== undefined) clearInterval(maintenanceTimer);
    watcher.close();
    db.close();
  };

  const transport: EmbeddedTransport = {
    name: 'embedded',
    capabilities,
    path: options.path,
    ensureTopics: async (configs) => {
      ensureOpen('ensureTopics');
      for (const config of configs) validateTopicConfig(config);
      if (createTopics.immediate(configs)) watcher.notify();
    },
    describeTopic: async (name) => {
      ensureOpen('describeTopic');
      const row = topic(name);
      return row === undefined ? undefined : topicConfig(row);
    },
    listTopics: async () => {
      ensureOpen('listTopics');
      return topicSql.all().map((row) => row.name);
    },
    append: async (writes) => {
      // Appends made while consumers close (e.g. from a revoke callback) are still flushed.
      ensureOpen('append');
      const batches = encodeWrites(writes, existingPartition, settings.compression);
      if (batches.every((batch) => batch.records.length === 0)) return batches.map(() => []);
      return writer.enqueue(batches);
    },
    // Every append is one SQLite transaction already.
    appendAtomically: (writes) => transport.append(writes),
    read: async (name, partition, fromOffset, maxRecords) => {
      ensureOpen('read');
      const row = existingPartition(name, partition);
      if (typeof fromOffset !== 'bigint') throw new TypeError('read: fromOffset must be a bigint');
      if (!Number.isInteger(maxRecords) || maxRecords <= 0) return [];
      return reads
        .range(row.id, partition, fromOffset, maxRecords)
        .map((stored): StoredRecord => decodeRecord(name, partition, stored));
    },
    readMatching: (name, partition, fromOffset, request) => {
      ensureOpen('readMatching');
      return readMatching(
        reads,
        matchingReads,
        existingPartition(name, partition),
        partition,
        fromOffset,
        request,
      );
    },
    offsets: async (name) => {
      ensureOpen('offsets');
      return topicOffsets(reads, name, existingTopic(name));
    },
    sizes: async (name) => {
      ensureOpen('sizes');
      return reads.sizes(existingTopic(name).id);
    },
    consumer: (consumerOptions) => {
      if (state !== 'open') throw new TransportClosedError('consumer');
      const consumer = createEmbeddedConsumer(
        {
          db,
          groups,
          reads,
          topic,
          lastTopicId: topicSql.lastId,
          watcher,
          logger,
          forget: (c) => consumers.delete(c),
          prepareWrites: (writes) => encodeWrites(writes, existingPartition, settings.compression),
          writeWithin: (batches) => void writer.writeWithin(batches),
        },
        consumerOptions,
      );
      consumers.add(consumer);
      return consumer;
    },
    groupLag: async (group, names) => {
      ensureOpen('groupLag');
      return groupLag(reads, groups, group, names, existingTopic);
    },
    maintain: async () => {
      ensureOpen('maintain');
      maintenance.run();
    },
    close: () => {
      closing ??= (async () => {
        if (state === 'closed') return;
        state = 'closing';
        writer.flush();
        await Promise.allSettled([...consumers].map((consumer) => consumer.close()));
        writer.flush();
        shutdown();
      })();
      return closing;
    },
    abort: () => {
      if (state === 'closed') return;
      for (const consumer of [...consumers]) consumer.abandon();
      writer.abandon(new TransportClosedError('append'));
      shutdown();
    },
    [Symbol.asyncDispose]: () => transport.close(),
  };
  return transport;
}
