import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type { Database, Statement } from 'better-sqlite3';
import type { Catalog } from '../../events/catalog.ts';
import { openSqlite } from '../../sql/sqlite/open-sqlite.ts';
import {
  ArchiveMismatchError,
  DuplicateEventIdError,
  InvalidCheckpointError,
  StreamDeletedError,
  TenantMismatchError,
  WrongExpectedVersionError,
} from '../errors.ts';
import {
  type AppendHook,
  type AppendResult,
  DEFAULT_TENANT,
  type EventStore,
  type OutboxSelector,
  type Snapshot,
  type StoredEvent,
  type StoreTransaction,
  type StreamPage,
} from '../event-store.ts';
import { satisfiesExpectedVersion } from '../expected-version.ts';
import type { PreparedAppend } from '../prepare-append.ts';
import {
  type AllQuery,
  checkTableName,
  createStoreHandle,
  type StoreCore,
  type StreamQuery,
} from '../store-handle.ts';
import { archivedLine, createEventDecoder, type EventDecoder } from '../stored-event-codec.ts';
import { migrateSqliteStore } from './schema.ts';
import { prepareSqliteAppend, type SqliteStreamRow } from './sql/append.ts';
import { prepareSqliteArchive } from './sql/archive.ts';
import { prepareSqliteDeleteStream } from './sql/delete-stream.ts';
import type { SqliteEventRow } from './sql/event-row.ts';
import { numbered } from './sql/numbered.ts';
import { prepareSqliteOutbox } from './sql/outbox.ts';
import { prepareSqliteReadAll } from './sql/read-all.ts';
import { prepareSqliteReadStream } from './sql/read-stream.ts';
import { prepareSqliteSnapshots } from './sql/snapshots.ts';

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
  /**
   * Transactional outbox: `true` writes an outbox row for every appended event in the append's
   * transaction; a selector picks the events (and may name their topic). Default off.
   */
  outbox?: boolean | OutboxSelector;
  /** With `path`: `full` (default) fsyncs every commit and survives power loss; `normal` survives process crashes. */
  synchronous?: 'normal' | 'full';
  /** With `path`: milliseconds a writer waits for another process's write transaction; default 5 000. */
  busyTimeoutMs?: number;
}

const CHECKPOINT = /^(0|[1-9][0-9]{0,18})$/;
const NUMBERED_PARAMETER = /\?\d/;
// Positions are below 2^63: an upper bound that every position satisfies.
const NO_END = 9_223_372_036_854_775_807n;

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

/**
 * The SQLite event store (WAL mode): tables prefixed `store_` beside the embedded transport's in one
 * file. Operations on one store run one at a time; several processes may share the file (SQLite lets
 * one write at a time, so positions commit in order).
 */
export function createSqliteEventStore(options: SqliteEventStoreOptions): EventStore {
  const owned = options.db === undefined;
  const db =
    options.db === undefined
      ? openSqlite({
          path: options.path,
          synchronous: options.synchronous,
          busyTimeoutMs: options.busyTimeoutMs,
          prepare: migrateSqliteStore,
        })
      : options.db;
  if (options.db !== undefined) migrateSqliteStore(db);
  const appendSql = prepareSqliteAppend(db);
  const streamSql = prepareSqliteReadStream(db);
  const readAllSql = prepareSqliteReadAll(db);
  const snapshotSql = prepareSqliteSnapshots(db);
  const outboxSql = prepareSqliteOutbox(db);
  const archiveSql = prepareSqliteArchive(db);
  const tombstone = prepareSqliteDeleteStream(db);
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
      // `?1`, `?2`, ... are named parameters to better-sqlite3: bound from an object keyed by number.
      const args = NUMBERED_PARAMETER.test(sql) ? [numbered(...params)] : params;
      if (statement.reader) return statement.all(...args) as Row[];
      statement.run(...args);
      return [];
    },
    table: (name) => `"${checkTableName(name)}"`,
  };

  /** Runs `work` in a write transaction on this connection, nothing else running meanwhile. */
  const inTransaction = <T>(work: () => T | Promise<T>): Promise<T> =>
    exclusive(async () => {
      db.exec('BEGIN IMMEDIATE');
      try {
        const result = await work();
        db.exec('COMMIT');
        return result;
      } catch (error) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw error;
      }
    });

  const deletedError = (streamId: string, stream: SqliteStreamRow): StreamDeletedError =>
    new StreamDeletedError(streamId, Number(stream.version), new Date(Number(stream.deleted_at)));

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
    if (stream?.deleted_at != null) {
      // A deleted stream takes only the append that re-creates it; versions continue after the old ones.
      if (expected !== 'no_stream') throw deletedError(streamId, stream);
    } else if (!satisfiesExpectedVersion(expected, version)) {
      throw new WrongExpectedVersionError(streamId, expected, version);
    }
    const written: StoredEvent[] = [];
    const recordedAt = new Date(now);
    for (const event of events) {
      if (stored.has(event.id)) continue;
      version += 1;
      const row = {
        streamId,
        version,
        tenantId,
        eventId: event.id,
        type: event.type,
        correlationId: event.correlationId,
        recordedAt: now,
        json: event.json,
      };
      const position = appendSql.insert(row);
      if (event.outboxTopic !== null) {
        appendSql.outbox({ ...row, position, topic: event.outboxTopic === '' ? null : event.outboxTopic });
      }
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

  const readStreamNow = db.transaction((streamId: string, query: StreamQuery): StreamPage => {
    const stream = streamSql.stream(streamId);
    if (
      stream === undefined ||
      stream.version === 0n ||
      (query.tenantId !== undefined && stream.tenant_id !== query.tenantId)
    ) {
      return { streamId, streamVersion: 0, events: [], next: undefined };
    }
    if (stream.deleted_at !== null) throw deletedError(streamId, stream);
    const streamVersion = Number(stream.version);
    const floor = Number(stream.deleted_version) + 1;
    const limit = query.maxCount ?? -1;
    if (query.direction === 'forwards') {
      let snapshot: Snapshot | undefined;
      if (query.snapshot !== undefined) {
        const row = snapshotSql.read(streamId, query.snapshot.name, null);
        if (row !== undefined && Number(row.state_version) === query.snapshot.stateVersion) {
          snapshot = toSnapshot(streamId, query.snapshot.name, row);
        }
      }
      const from = Math.max(floor, query.fromVersion ?? (snapshot ? snapshot.streamVersion + 1 : 1));
      const rows = limit === 0 ? [] : streamSql.forwards(streamId, from, limit);
      const last = rows.length > 0 ? Number(rows[rows.length - 1]!.version) : from - 1;
      const next = last < streamVersion && (limit === 0 || rows.length === limit) ? last + 1 : undefined;
      const events = rows.map((r) => toStored(r, decode));
      return snapshot === undefined
        ? { streamId, streamVersion, events, next }
        : { streamId, streamVersion, events, next, snapshot };
    }
    const from = Math.min(streamVersion, query.fromVersion ?? streamVersion);
    const rows = limit === 0 || from < floor ? [] : streamSql.backwards(streamId, from, floor - 1, limit);
    const last = rows.length > 0 ? Number(rows[rows.length - 1]!.version) : from + 1;
    const next = last > floor && (limit === 0 || rows.length === limit) ? last - 1 : undefined;
    return { streamId, streamVersion, events: rows.map((r) => toStored(r, decode)), next };
  });

  const toSnapshot = (
    streamId: string,
    name: string,
    row: {
      stream_version: bigint;
      state_version: bigint;
      state: string;
      tenant_id: string;
      created_at: bigint;
    },
  ): Snapshot => ({
    streamId,
    name,
    streamVersion: Number(row.stream_version),
    stateVersion: Number(row.state_version),
    state: JSON.parse(row.state) as unknown,
    tenantId: row.tenant_id,
    createdAt: new Date(Number(row.created_at)),
  });

  const endPosition = (endAt: string | undefined): bigint =>
    endAt === undefined ? NO_END : decodeCheckpoint(endAt);

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
        const end = endPosition(query.endAt);
        if (query.maxCount === 0) return { events: [], next: query.after, hasMore: false };
        // The head first: the page then cannot see past it, so a page that is not full has seen all of it.
        const head = readAllSql.head();
        const endAtPosition = head < end ? head : end;
        const rows = readAllSql.page({ ...query, afterPosition, endAtPosition, maxCount: query.maxCount });
        const events = rows.map((r) => toStored(r, decode));
        const hasMore = rows.length === query.maxCount;
        if (hasMore) return { events, next: events[events.length - 1]!.checkpoint, hasMore };
        return { events, next: endAtPosition > afterPosition ? String(endAtPosition) : query.after, hasMore };
      }),
    head: () =>
      exclusive(() => {
        const head = readAllSql.head();
        return head === 0n ? undefined : String(head);
      }),
    count: (query) =>
      exclusive(() =>
        readAllSql.count({
          ...query,
          afterPosition: decodeCheckpoint(query.after),
          endAtPosition: endPosition(query.endAt),
        }),
      ),
    deleteStream: (streamId, expected, tenantId) =>
      inTransaction(() => {
        const stream = appendSql.stream(streamId);
        const visible =
          stream !== undefined &&
          stream.version > 0n &&
          (tenantId === undefined || stream.tenant_id === tenantId);
        const version = visible ? Number(stream.version) : 0;
        if (visible && stream.deleted_at !== null) {
          return { streamId, version, deletedAt: new Date(Number(stream.deleted_at)) };
        }
        if (!visible || !satisfiesExpectedVersion(expected, version)) {
          throw new WrongExpectedVersionError(streamId, expected, version);
        }
        const now = Date.now();
        tombstone(streamId, now);
        return { streamId, version, deletedAt: new Date(now) };
      }),
    readSnapshot: (streamId, name, tenantId) =>
      exclusive(() => {
        const row = snapshotSql.read(streamId, name, tenantId ?? null);
        return row === undefined ? undefined : toSnapshot(streamId, name, row);
      }),
    writeSnapshot: (snapshot, tenantId) =>
      exclusive(() =>
        snapshotSql.write(
          snapshot.streamId,
          snapshot.name,
          snapshot.streamVersion,
          snapshot.stateVersion,
          JSON.stringify(snapshot.state),
          tenantId ?? null,
          Date.now(),
        ),
      ),
    transaction: (work) => inTransaction(() => work(transaction)),
    outbox: {
      pending: (maxCount, tenantId) =>
        exclusive(() =>
          outboxSql.pending(maxCount, tenantId ?? null).map((row) => ({
            id: row.id,
            event: decodeAsWritten(row.event),
            streamId: row.stream_id,
            version: Number(row.version),
            position: row.position,
            tenantId: row.tenant_id,
            topic: row.topic ?? undefined,
          })),
        ),
      markSent: (ids, tenantId) => exclusive(() => outboxSql.markSent(ids, tenantId ?? null, Date.now())),
      pendingCount: (tenantId) => exclusive(() => outboxSql.pendingCount(tenantId ?? null)),
      lease: (name, ttlMs) => {
        // The holder id is this lease object's: two relays in one process are two holders.
        const holder = randomUUID();
        return {
          acquire: () =>
            exclusive(() => {
              const now = Date.now();
              return outboxSql.acquire(name, holder, now, now + ttlMs);
            }),
          release: () => exclusive(() => outboxSql.release(name, holder)),
        };
      },
    },
    archive: async (query) => {
      const report = {
        before: query.before,
        exported: 0,
        removed: 0,
        firstPosition: undefined as bigint | undefined,
        lastPosition: undefined as bigint | undefined,
        batches: 0,
      };
      for (;;) {
        const done = await inTransaction(async () => {
          const rows = archiveSql.batch(
            query.before.getTime(),
            query.batchSize,
            query.tenantId ?? null,
            query.streamPrefix ?? null,
          );
          if (rows.length === 0) return true;
          await query.write(
            rows
              .map((r) =>
                archivedLine(
                  String(r.position),
                  r.stream_id,
                  Number(r.version),
                  r.tenant_id,
                  Number(r.recorded_at),
                  r.event,
                ),
              )
              .join(''),
          );
          const removed = archiveSql.remove(rows.map((r) => r.position));
          if (removed !== rows.length) throw new ArchiveMismatchError(rows.length, removed);
          report.exported += rows.length;
          report.removed += removed;
          report.batches += 1;
          report.firstPosition ??= rows[0]!.position;
          report.lastPosition = rows[rows.length - 1]!.position;
          return rows.length < query.batchSize;
        });
        if (done) break;
      }
      if (query.tenantId === undefined && query.streamPrefix === undefined) {
        await exclusive(() => outboxSql.purgeSent(query.before.getTime()));
      }
      return report;
    },
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
  const outbox = options.outbox === true ? () => true : options.outbox === false ? undefined : options.outbox;
  return createStoreHandle(core, { hooks: options.onAppend ?? [], outbox });
}
