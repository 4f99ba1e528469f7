import { resolve } from 'node:path';
import type { Database, Statement } from 'better-sqlite3';
import BetterSqlite3 from 'better-sqlite3';
import type { Catalog } from '../../events/catalog.ts';
import {
  DuplicateEventIdError,
  InvalidCheckpointError,
  TenantMismatchError,
  WrongExpectedVersionError,
} from '../errors.ts';
import {
  type AppendHook,
  type AppendResult,
  DEFAULT_TENANT,
  type EventStore,
  type StoredEvent,
  type StoreTransaction,
} from '../event-store.ts';
import { satisfiesExpectedVersion } from '../expected-version.ts';
import type { PreparedAppend } from '../prepare-append.ts';
import { type AllQuery, createStoreHandle, type StoreCore, type StreamQuery } from '../store-handle.ts';
import { createEventDecoder, type EventDecoder } from '../stored-event-codec.ts';
import { migrateSqliteStore } from './schema.ts';
import { prepareSqliteAppend } from './sql/append.ts';
import type { SqliteEventRow } from './sql/event-row.ts';
import { prepareSqliteReadAll } from './sql/read-all.ts';
import { prepareSqliteReadStream } from './sql/read-stream.ts';

/** How to open the SQLite event store: on a file (or `:memory:`), or on a connection you already hold. */
export type SqliteEventStoreOptions = SqliteStoreCommonOptions &
  (
    | {
        /** SQLite file (created when missing; the embedded default is the transport's `.keel/keel.db`), or `:memory:`. */
        path: string;
        db?: undefined;
      }
    | {
        /**
         * An open connection, left open on close. Nothing else may write on it while the store appends:
         * an append with an async hook keeps its write transaction open across awaits.
         */
        db: Database;
        path?: undefined;
      }
  );

/** Options shared by both ways of opening the SQLite store. */
export interface SqliteStoreCommonOptions {
  /** Event definitions whose upcasters bring old data to the current version on read; none: read as stored. */
  catalog?: Catalog;
  /** Hooks run in every append's transaction (outbox, inline projections), before the append's own. */
  onAppend?: readonly AppendHook[];
  /** With `path`: `full` (default) fsyncs every commit and survives power loss; `normal` survives process crashes. */
  synchronous?: 'normal' | 'full';
  /** With `path`: milliseconds a writer waits for another process's write transaction; default 5 000. */
  busyTimeoutMs?: number;
}

const CHECKPOINT = /^(0|[1-9][0-9]{0,18})$/;

/** Position encoded in a SQLite checkpoint: positions commit in order here, so the position is enough. */
function decodeCheckpoint(checkpoint: string | undefined): bigint {
  if (checkpoint === undefined) return 0n;
  if (typeof checkpoint !== 'string' || !CHECKPOINT.test(checkpoint)) {
    throw new InvalidCheckpointError(String(checkpoint), 'sqlite');
  }
  return BigInt(checkpoint);
}

// Stores on the same file in one process wake each other's subscriptions instead of waiting a poll interval.
const wakers = new Map<string, { waiting: Set<() => void>; stores: number }>();

function openFile(options: SqliteEventStoreOptions & { path: string }): Database {
  const db = new BetterSqlite3(options.path);
  try {
    // busy_timeout first: switching to WAL and migrating can meet another process doing the same.
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5_000))}`);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * The SQLite event store (WAL mode): tables prefixed `store_` beside the embedded transport's in one
 * file. Operations on one store run one at a time; several processes may share the file (SQLite lets
 * one write at a time, so positions commit in order).
 */
export function createSqliteEventStore(options: SqliteEventStoreOptions): EventStore {
  const owned = options.db === undefined;
  const db = options.db ?? openFile(options as SqliteEventStoreOptions & { path: string });
  try {
    migrateSqliteStore(db);
  } catch (error) {
    if (owned) db.close();
    throw error;
  }
  const appendSql = prepareSqliteAppend(db);
  const streamSql = prepareSqliteReadStream(db);
  const readAllSql = prepareSqliteReadAll(db);
  const decode = createEventDecoder(options.catalog);
  const decodeAsWritten = createEventDecoder(undefined);
  // Subscriptions wait on this set; `:memory:` databases are private to their connection.
  const wakeKey = db.memory ? undefined : resolve(db.name);
  let sameFile = wakeKey === undefined ? undefined : wakers.get(wakeKey);
  if (wakeKey !== undefined && sameFile === undefined) {
    sameFile = { waiting: new Set(), stores: 0 };
    wakers.set(wakeKey, sameFile);
  }
  if (sameFile !== undefined) sameFile.stores += 1;
  const waiting: Set<() => void> = sameFile?.waiting ?? new Set();

  // One operation at a time: an append whose hook awaits keeps its transaction open on this connection,
  // and nothing else may run on the connection until it commits (a read would see uncommitted rows).
  let tail: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => T | Promise<T>): Promise<T> => {
    const run = tail.then(work);
    tail = run.catch(() => {});
    return run;
  };

  const toStored = (row: SqliteEventRow, decoder: EventDecoder): StoredEvent => ({
    event: decoder(row.event),
    streamId: row.stream_id,
    version: Number(row.version),
    position: row.position,
    tenantId: row.tenant_id,
    recordedAt: new Date(Number(row.recorded_at)),
    checkpoint: String(row.position),
  });

  const hookStatements = new Map<string, Statement>();
  const transaction: StoreTransaction = {
    dialect: 'sqlite',
    async query<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
      let statement = hookStatements.get(sql);
      if (statement === undefined) {
        statement = db.prepare(sql);
        if (hookStatements.size < 256) hookStatements.set(sql, statement);
      }
      if (statement.reader) return statement.all(...params) as Row[];
      statement.run(...params);
      return [];
    },
  };

  const notify = (): void => {
    for (const wake of waiting) wake();
  };

  /** Runs inside BEGIN IMMEDIATE: checks, then writes. */
  const write = (append: PreparedAppend): { result: AppendResult; written: StoredEvent[] } => {
    const { streamId, expected, events } = append;
    const now = Date.now();
    const stream = appendSql.stream(streamId);
    const tenantId = append.tenantId ?? stream?.tenant_id ?? DEFAULT_TENANT;
    if (stream !== undefined && stream.tenant_id !== tenantId) {
      throw new TenantMismatchError(streamId, tenantId, 'the stream belongs to another tenant');
    }
    let version = Number(stream?.version ?? 0n);
    const existing = events.length === 0 ? [] : appendSql.existing(events.map((e) => e.id));
    const elsewhere = existing.find((row) => row.stream_id !== streamId);
    if (elsewhere !== undefined) throw new DuplicateEventIdError(elsewhere.event_id, streamId);
    const existingIds = new Set(existing.map((row) => row.event_id));
    const stored = new Map(existing.map((row) => [row.event_id, toStored(row, decodeAsWritten)]));
    if (events.length > 0 && stored.size === events.length) {
      // A retry of an append that committed: answer what the original append answered.
      const originals = events.map((e) => stored.get(e.id)!);
      const reached = Math.max(...originals.map((e) => e.version));
      return {
        result: {
          streamId,
          tenantId,
          nextExpectedVersion: reached,
          events: originals,
          duplicates: events.map((e) => e.id),
        },
        written: [],
      };
    }
    if (!satisfiesExpectedVersion(expected, version)) {
      throw new WrongExpectedVersionError(streamId, expected, version);
    }
    const written: StoredEvent[] = [];
    const recordedAt = new Date(now);
    for (const event of events) {
      if (stored.has(event.id)) continue;
      version += 1;
      const position = appendSql.insert({
        streamId,
        version,
        tenantId,
        eventId: event.id,
        type: event.type,
        correlationId: event.correlationId,
        recordedAt: now,
        json: event.json,
      });
      const entry: StoredEvent = {
        event: event.event,
        streamId,
        version,
        position,
        tenantId,
        recordedAt,
        checkpoint: String(position),
      };
      written.push(entry);
      stored.set(event.id, entry);
    }
    if (written.length > 0) appendSql.saveStream(streamId, tenantId, version, now);
    return {
      result: {
        streamId,
        tenantId,
        nextExpectedVersion: version,
        events: events.map((e) => stored.get(e.id)!),
        duplicates: events.filter((e) => existingIds.has(e.id)).map((e) => e.id),
      },
      written,
    };
  };

  const readStreamNow = db.transaction((streamId: string, query: StreamQuery) => {
    const stream = streamSql.stream(streamId);
    if (stream === undefined || (query.tenantId !== undefined && stream.tenant_id !== query.tenantId)) {
      return { streamId, streamVersion: 0, events: [], next: undefined };
    }
    const streamVersion = Number(stream.version);
    const limit = query.maxCount ?? -1;
    if (query.direction === 'forwards') {
      const from = Math.max(1, query.fromVersion ?? 1);
      const rows = limit === 0 ? [] : streamSql.forwards(streamId, from, limit);
      const last = rows.length > 0 ? Number(rows[rows.length - 1]!.version) : from - 1;
      const next = last < streamVersion && (limit === 0 || rows.length === limit) ? last + 1 : undefined;
      return { streamId, streamVersion, events: rows.map((r) => toStored(r, decode)), next };
    }
    const from = Math.min(streamVersion, query.fromVersion ?? streamVersion);
    const rows = limit === 0 || from < 1 ? [] : streamSql.backwards(streamId, from, limit);
    const last = rows.length > 0 ? Number(rows[rows.length - 1]!.version) : from + 1;
    const next = last > 1 && (limit === 0 || rows.length === limit) ? last - 1 : undefined;
    return { streamId, streamVersion, events: rows.map((r) => toStored(r, decode)), next };
  });

  const core: StoreCore = {
    name: 'sqlite',
    append: (append, hook) =>
      exclusive(async () => {
        db.exec('BEGIN IMMEDIATE');
        try {
          const { result, written } = write(append);
          if (hook !== undefined && written.length > 0) {
            await hook({
              streamId: result.streamId,
              tenantId: result.tenantId,
              events: written,
              streamVersion: result.nextExpectedVersion,
              transaction,
            });
          }
          db.exec('COMMIT');
          if (written.length > 0) notify();
          return result;
        } catch (error) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw error;
        }
      }),
    readStream: (streamId, query) => exclusive(() => readStreamNow(streamId, query)),
    readAll: (query: AllQuery) =>
      exclusive(() => {
        const afterPosition = decodeCheckpoint(query.after);
        const rows = query.maxCount === 0 ? [] : readAllSql({ ...query, afterPosition });
        const events = rows.map((r) => toStored(r, decode));
        return {
          events,
          next: events.length > 0 ? events[events.length - 1]!.checkpoint : query.after,
          hasMore: query.maxCount > 0 && rows.length === query.maxCount,
        };
      }),
    waitForAppends: (ms, signal) =>
      new Promise<void>((resolveWait) => {
        if (signal.aborted) return resolveWait();
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          waiting.delete(done);
          signal.removeEventListener('abort', done);
          resolveWait();
        }
        waiting.add(done);
        signal.addEventListener('abort', done, { once: true });
      }),
    close: () =>
      exclusive(() => {
        if (sameFile !== undefined && --sameFile.stores === 0) wakers.delete(wakeKey!);
        if (owned) db.close();
      }),
  };
  return createStoreHandle(core, options.onAppend ?? []);
}
