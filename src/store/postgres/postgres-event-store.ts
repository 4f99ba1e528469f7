import postgres, { type ReservedSql, type Sql, type TransactionSql } from 'postgres';
import type { Catalog } from '../../events/catalog.ts';
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
  type OutboxEntry,
  type OutboxLease,
  type OutboxSelector,
  type Snapshot,
  type StoredEvent,
  type StoreTransaction,
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
import { sleepUnlessAborted } from '../subscription.ts';
import { migratePostgresStore, quoteIdentifier } from './schema.ts';
import {
  type AppendBatchRow,
  appendBatchParameters,
  appendBatchStatement,
  sortByStream,
} from './sql/append-batch.ts';
import {
  type ArchiveRow,
  archiveBatchStatement,
  purgeSentOutboxStatement,
  removeArchivedStatement,
} from './sql/archive.ts';
import { deleteStreamStatement, lockStreamStatement } from './sql/delete-stream.ts';
import type { EventRow } from './sql/event-columns.ts';
import {
  ACQUIRE_LEASE,
  LEASE_KEYS,
  markSentStatement,
  type OutboxRow,
  pendingCountStatement,
  pendingOutboxStatement,
  RELEASE_LEASE,
} from './sql/outbox.ts';
import {
  type CommitCursor,
  countStatement,
  headStatement,
  READ_ALL_HEAD_COLUMNS,
  readAllStatement,
} from './sql/read-all.ts';
import {
  readStreamStatement,
  STREAM_HEAD_COLUMNS,
  type StreamHeadRow,
  streamStateStatement,
} from './sql/read-stream.ts';
import { readSnapshotStatement, type SnapshotRow, writeSnapshotStatement } from './sql/snapshots.ts';

/** How to open the PostgreSQL event store: on a connection string, or on a postgres.js instance you hold. */
export type PostgresEventStoreOptions = PostgresStoreCommonOptions &
  (
    | {
        /** Connection string, e.g. `postgres://user@host:5432/db` (`KEEL_POSTGRES_URL`). */
        url: string;
        sql?: undefined;
      }
    | {
        /** A postgres.js instance (its pool), left open on close. */
        sql: Sql;
        url?: undefined;
      }
  );

/** Options shared by both ways of opening the PostgreSQL store. */
export interface PostgresStoreCommonOptions {
  /** Schema holding the store's tables, created when missing; default `keel`. Lower-case letters, digits, `_`. */
  schema?: string;
  /** Event definitions whose upcasters bring old data to the current version on read; none: read as stored. */
  catalog?: Catalog;
  /** Hooks run in every append's transaction (outbox, inline projections), before the append's own. */
  onAppend?: readonly AppendHook[];
  /**
   * Transactional outbox: `true` writes an outbox row for every appended event in the append's own
   * statement; a selector picks the events (and may name their topic). Default off.
   */
  outbox?: boolean | OutboxSelector;
  /** With `url`: most connections the store opens; default 10. */
  maxConnections?: number;
  /**
   * Statements of small appends in flight at once; appends made meanwhile are queued and written
   * together by the next statement, one round trip and one commit for all (group commit). Appends with
   * hooks run in their own transactions, and appends of 256 events or more in statements of their own.
   * Default 2.
   */
  maxAppendsInFlight?: number;
}

/** Default schema of the PostgreSQL store. */
export const DEFAULT_POSTGRES_SCHEMA = 'keel';

/** Default number of statements of small appends in flight at once. */
export const DEFAULT_APPENDS_IN_FLIGHT = 2;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const CHECKPOINT = /^(0|[1-9][0-9]{0,19}):(0|[1-9][0-9]{0,18})$/;
const START: CommitCursor = { transactionId: '0', position: '0' };
const UNIQUE_VIOLATION = '23505';
const EVENT_ID_KEY = 'store_events_event_id_key';
// One statement carries at most this many appends and events: more would only delay the first of them.
const MAX_GROUPS_PER_STATEMENT = 32;
const MAX_EVENTS_PER_STATEMENT = 1_000;
// An append of this many events is a batch already: it gets a statement of its own at once, in parallel
// with others (the pool bounds them), since merging it gains nothing and would serialize big appends.
const LARGE_APPEND = 256;

/** The commit cursor in a PostgreSQL checkpoint: `<transaction id>:<position>`. */
function decodeCheckpoint(checkpoint: string | undefined): CommitCursor {
  if (checkpoint === undefined) return START;
  const match = typeof checkpoint === 'string' ? CHECKPOINT.exec(checkpoint) : null;
  if (match === null) throw new InvalidCheckpointError(String(checkpoint), 'postgres');
  return { transactionId: match[1]!, position: match[2]! };
}

/** Orders commit cursors as readers do: by transaction id, then position. */
function compareCursors(a: CommitCursor, b: CommitCursor): number {
  const t = BigInt(a.transactionId) - BigInt(b.transactionId);
  if (t !== 0n) return t < 0n ? -1 : 1;
  const p = BigInt(a.position) - BigInt(b.position);
  return p === 0n ? 0 : p < 0n ? -1 : 1;
}

const encodeCursor = (cursor: CommitCursor): string => `${cursor.transactionId}:${cursor.position}`;

type Runner = Sql | TransactionSql | ReservedSql;

// The driver's parameter type is a union of what it can serialize; the statements here cast each one.
const run = <Row extends readonly unknown[]>(runner: Runner, text: string, params: readonly unknown[]) =>
  runner.unsafe(text, params as never[], { prepare: true }).values() as unknown as Promise<Row[]>;

/** An append waiting for its turn in a batch statement. */
interface QueuedAppend {
  append: PreparedAppend;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

/**
 * The PostgreSQL event store (PostgreSQL ≥ 14; `xid8` and `pg_current_xact_id()` are from 13). The schema
 * is migrated on first use. Appends without hooks are one function call, batched with concurrent ones
 * (group commit); reads never pass an event that commits later (see `sql/read-all.ts`).
 */
export function createPostgresEventStore(options: PostgresEventStoreOptions): EventStore {
  const schemaName = options.schema ?? DEFAULT_POSTGRES_SCHEMA;
  if (!SCHEMA_NAME.test(schemaName)) {
    throw new TypeError(
      `createPostgresEventStore: schema "${schemaName}" must be lower-case letters, digits and '_' (at most 63)`,
    );
  }
  const maxInFlight = options.maxAppendsInFlight ?? DEFAULT_APPENDS_IN_FLIGHT;
  if (!Number.isSafeInteger(maxInFlight) || maxInFlight < 1) {
    throw new TypeError(
      `createPostgresEventStore: maxAppendsInFlight must be an integer ≥ 1, got ${maxInFlight}`,
    );
  }
  const owned = options.sql === undefined;
  const sql =
    options.sql ??
    postgres(options.url as string, {
      max: options.maxConnections ?? 10,
      // CREATE ... IF NOT EXISTS notices are expected; the driver would print them on stdout.
      onnotice: () => {},
    });
  const schema = quoteIdentifier(schemaName);
  const decode = createEventDecoder(options.catalog);
  const decodeAsWritten = createEventDecoder(undefined);
  const batchText = appendBatchStatement(schema);
  const stateText = streamStateStatement(schema);
  const streamText = {
    forwards: readStreamStatement(schema, 'forwards'),
    backwards: readStreamStatement(schema, 'backwards'),
  };
  const headText = headStatement(schema);
  const localWakers = new Set<() => void>();

  let migrated: Promise<void> | undefined;
  const ready = (): Promise<void> => {
    migrated ??= migratePostgresStore(sql, schemaName).catch((error) => {
      migrated = undefined; // a failed migration (server down, ...) is tried again by the next call
      throw error;
    });
    return migrated;
  };

  /** The event of a row whose event columns start at `at` (read rows carry other columns first). */
  const toStored = (row: readonly unknown[], decoder: EventDecoder, at = 0): StoredEvent => ({
    event: decoder(row[at + 6] as string),
    streamId: row[at + 2] as string,
    version: Number(row[at + 3]),
    position: BigInt(row[at] as string),
    tenantId: row[at + 4] as string,
    recordedAt: new Date(row[at + 5] as number),
    checkpoint: `${row[at + 1]}:${row[at]}`,
  });

  const transactionOf = (tx: TransactionSql): StoreTransaction => ({
    dialect: 'postgres',
    query: async <Row>(text: string, values: readonly unknown[] = []) =>
      [...(await tx.unsafe(text, values as never[]))] as Row[],
    table: (name) => `${schema}.${quoteIdentifier(checkTableName(name))}`,
  });

  /** The refusal of one append in a batch, as a typed error. */
  const refusal = (append: PreparedAppend, code: string, detail: string | null): Error => {
    switch (code) {
      case 'KE001':
        return new WrongExpectedVersionError(append.streamId, append.expected, Number(detail));
      case 'KE002':
        return new TenantMismatchError(
          append.streamId,
          append.tenantId ?? DEFAULT_TENANT,
          'the stream belongs to another tenant',
        );
      case 'KE003':
        return new DuplicateEventIdError(String(detail), append.streamId);
      default: {
        const [version, ms] = String(detail).split(':');
        return new StreamDeletedError(append.streamId, Number(version), new Date(Number(ms)));
      }
    }
  };

  /** Each append's result (or refusal) from a batch statement's rows; `written` are the events it stored. */
  const results = (
    appends: readonly PreparedAppend[],
    rows: readonly AppendBatchRow[],
  ): ({ result: AppendResult; written: StoredEvent[] } | Error)[] => {
    const byGroup = appends.map(() => [] as AppendBatchRow[]);
    for (const row of rows) byGroup[row[0] - 1]!.push(row);
    return appends.map((append, index) => {
      const groupRows = byGroup[index]!;
      const refused = groupRows.find((row) => row[1] !== null);
      if (refused !== undefined) return refusal(append, refused[1]!, refused[2]);
      const given = new Map(append.events.map((e) => [e.id, e]));
      const byId = new Map<string, StoredEvent>();
      const written: StoredEvent[] = [];
      const duplicateIds = new Set<string>();
      let tenantId = append.tenantId ?? DEFAULT_TENANT;
      let streamVersion = 0;
      for (const row of groupRows) {
        const [
          ,
          ,
          ,
          tenant,
          version,
          eventId,
          position,
          eventVersion,
          recordedAtMs,
          transactionId,
          duplicate,
          json,
        ] = row;
        tenantId = tenant!;
        streamVersion = Number(version);
        const stored: StoredEvent = {
          event: duplicate ? decodeAsWritten(json!) : given.get(eventId!)!.event,
          streamId: append.streamId,
          version: Number(eventVersion),
          position: BigInt(position!),
          tenantId: tenant!,
          recordedAt: new Date(recordedAtMs!),
          checkpoint: `${transactionId}:${position}`,
        };
        byId.set(eventId!, stored);
        if (duplicate) duplicateIds.add(eventId!);
        else written.push(stored);
      }
      written.sort((a, b) => a.version - b.version);
      const events = append.events.map((e) => byId.get(e.id)!);
      const nextExpectedVersion =
        written.length === 0 ? Math.max(...events.map((e) => e.version)) : streamVersion;
      return {
        result: {
          streamId: append.streamId,
          tenantId,
          nextExpectedVersion,
          events,
          duplicates: append.events.filter((e) => duplicateIds.has(e.id)).map((e) => e.id),
        },
        written,
      };
    });
  };

  /**
   * Runs one batch statement. First unchecked (no lookup of the ids: the unique key catches a stored
   * one), then, for the appends it refused on their expected version, checked: such a refusal may be a
   * retry of an append that committed, which is answered from the stored rows instead.
   */
  const writeBatch = async (
    runner: Runner,
    appends: readonly PreparedAppend[],
    checkIds = false,
  ): Promise<({ result: AppendResult; written: StoredEvent[] } | Error)[]> => {
    const rows = await run<AppendBatchRow>(
      runner,
      batchText,
      appendBatchParameters(appends, DEFAULT_TENANT, checkIds),
    );
    const outcomes = results(appends, rows);
    if (checkIds) return outcomes;
    const again = appends.filter((_, i) => outcomes[i] instanceof WrongExpectedVersionError);
    if (again.length === 0) return outcomes;
    const rechecked = await writeBatch(runner, again, true);
    return outcomes.map((outcome) =>
      outcome instanceof WrongExpectedVersionError ? rechecked.shift()! : outcome,
    );
  };

  const isIdRace = (error: unknown): boolean => {
    const { code, constraint_name: constraint } = error as { code?: string; constraint_name?: string };
    return code === UNIQUE_VIOLATION && constraint === EVENT_ID_KEY;
  };

  // Group commit: appends queue here; up to `maxInFlight` statements run at once, each taking every
  // queued append it can (distinct streams and ids, within the size caps).
  const queue: QueuedAppend[] = [];
  let inFlight = 0;

  const takeBatch = (): QueuedAppend[] => {
    const batch: QueuedAppend[] = [];
    const streams = new Set<string>();
    const ids = new Set<string>();
    let events = 0;
    for (let i = 0; i < queue.length && batch.length < MAX_GROUPS_PER_STATEMENT; ) {
      const entry = queue[i]!;
      const fits =
        !streams.has(entry.append.streamId) &&
        (batch.length === 0 || events + entry.append.events.length <= MAX_EVENTS_PER_STATEMENT) &&
        entry.append.events.every((e) => !ids.has(e.id));
      if (!fits) {
        i++;
        continue;
      }
      queue.splice(i, 1);
      batch.push(entry);
      streams.add(entry.append.streamId);
      for (const e of entry.append.events) ids.add(e.id);
      events += entry.append.events.length;
    }
    return batch;
  };

  const settle = async (taken: readonly QueuedAppend[]): Promise<void> => {
    const batch = sortByStream(taken);
    let outcomes: Awaited<ReturnType<typeof writeBatch>>;
    try {
      outcomes = await writeBatch(
        sql,
        batch.map((q) => q.append),
      );
    } catch (error) {
      if (batch.length > 1 || isIdRace(error)) {
        // One append's failure must not fail the others: each goes again alone (an id race is then
        // answered by the committed row: a duplicate here, DuplicateEventIdError for another stream).
        await Promise.all(batch.map((entry) => settleAlone(entry)));
      } else {
        batch[0]!.reject(error);
      }
      return;
    }
    let wrote = false;
    outcomes.forEach((outcome, index) => {
      if (outcome instanceof Error) batch[index]!.reject(outcome);
      else {
        wrote ||= outcome.written.length > 0;
        batch[index]!.resolve(outcome.result);
      }
    });
    if (wrote) for (const wake of localWakers) wake();
  };

  const settleAlone = async (entry: QueuedAppend): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        const [outcome] = await writeBatch(sql, [entry.append], true);
        if (outcome instanceof Error) entry.reject(outcome);
        else {
          if (outcome!.written.length > 0) for (const wake of localWakers) wake();
          entry.resolve(outcome!.result);
        }
        return;
      } catch (error) {
        if (isIdRace(error) && attempt < 3) continue;
        entry.reject(error);
        return;
      }
    }
  };

  const dispatch = (): void => {
    for (let i = 0; i < queue.length; ) {
      const entry = queue[i]!;
      const streamId = entry.append.streamId;
      // Not ahead of an append to the same stream queued before it.
      if (
        entry.append.events.length >= LARGE_APPEND &&
        !queue.slice(0, i).some((q) => q.append.streamId === streamId)
      ) {
        queue.splice(i, 1);
        void settle([entry]);
      } else i++;
    }
    while (inFlight < maxInFlight && queue.length > 0) {
      const batch = takeBatch();
      inFlight++;
      void settle(batch).finally(() => {
        inFlight--;
        dispatch();
      });
    }
  };

  const enqueue = (append: PreparedAppend): Promise<AppendResult> =>
    new Promise((resolve, reject) => {
      queue.push({ append, resolve, reject });
      dispatch();
    });

  /** An append with hooks: its own transaction, the batch statement with one append, then the hook. */
  const appendWithHook = async (append: PreparedAppend, hook: AppendHook): Promise<AppendResult> => {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = (await sql.begin(async (tx) => {
          // After an id race the transaction starts again, this time looking the ids up.
          const [outcome] = await writeBatch(tx, [append], attempt > 1);
          if (outcome instanceof Error) throw outcome;
          const { result, written } = outcome!;
          if (written.length > 0) {
            await hook({
              streamId: result.streamId,
              tenantId: result.tenantId,
              events: written,
              streamVersion: result.nextExpectedVersion,
              transaction: transactionOf(tx),
            });
          }
          return { result, wrote: written.length > 0 };
        })) as { result: AppendResult; wrote: boolean };
        if (result.wrote) for (const wake of localWakers) wake();
        return result.result;
      } catch (error) {
        if (isIdRace(error) && attempt < 3) continue;
        throw error;
      }
    }
  };

  const appendNothing = async (append: PreparedAppend): Promise<AppendResult> => {
    const [row] = await run<[string, string, number | null]>(sql, stateText, [append.streamId]);
    const tenantId = append.tenantId ?? row?.[0] ?? DEFAULT_TENANT;
    if (row !== undefined && row[0] !== tenantId) {
      throw new TenantMismatchError(append.streamId, tenantId, 'the stream belongs to another tenant');
    }
    const version = row === undefined ? 0 : Number(row[1]);
    if (row?.[2] != null && append.expected !== 'no_stream') {
      throw new StreamDeletedError(append.streamId, version, new Date(row[2]));
    }
    if (row?.[2] == null && !satisfiesExpectedVersion(append.expected, version)) {
      throw new WrongExpectedVersionError(append.streamId, append.expected, version);
    }
    return { streamId: append.streamId, tenantId, nextExpectedVersion: version, events: [], duplicates: [] };
  };

  const toSnapshot = (streamId: string, name: string, row: SnapshotRow): Snapshot => ({
    streamId,
    name,
    streamVersion: Number(row[0]),
    stateVersion: Number(row[1]),
    state: JSON.parse(row[2]) as unknown,
    tenantId: row[3],
    createdAt: new Date(row[4]),
  });

  const leases = new Set<OutboxLease>();

  /** A relay lease: a session advisory lock held on a connection reserved for it. */
  const lease = (name: string): OutboxLease => {
    let connection: ReservedSql | undefined;
    let keys: [number, number] | undefined;
    let held = false;
    const drop = () => {
      const reserved = connection;
      connection = undefined;
      held = false;
      // The lock goes with the session: closing the connection (not just returning it) releases it.
      reserved?.release();
    };
    const handle: OutboxLease = {
      async acquire() {
        await ready();
        leases.add(handle);
        try {
          connection ??= await sql.reserve();
          if (keys === undefined) {
            const [row] = await run<[number, number]>(connection, LEASE_KEYS, [`${schemaName}:${name}`]);
            keys = [Number(row![0]), Number(row![1])];
          }
          const [row] = await run<[boolean]>(connection, ACQUIRE_LEASE, keys);
          held = row![0] === true;
          return held;
        } catch (error) {
          // A broken session has lost the lock with it: start again on a new one next time.
          if (connection !== undefined) {
            // A session still alive must not go back to the pool holding the lock.
            await run(connection, 'SELECT pg_advisory_unlock_all()', []).catch(() => {});
            drop();
          }
          throw error;
        }
      },
      async release() {
        leases.delete(handle);
        if (connection === undefined) return;
        if (held && keys !== undefined) {
          await run(connection, RELEASE_LEASE, keys).catch(() => {});
        }
        drop();
      },
    };
    return handle;
  };

  const core: StoreCore = {
    name: 'postgres',
    async append(append, hook) {
      await ready();
      if (append.events.length === 0) return appendNothing(append);
      if (hook !== undefined) return appendWithHook(append, hook);
      return enqueue(append);
    },
    async readStream(streamId, query: StreamQuery) {
      await ready();
      const limit = query.maxCount === undefined ? null : String(query.maxCount);
      const rows = await run<[...StreamHeadRow, ...(EventRow | [null, null, null, null, null, null, null])]>(
        sql,
        streamText[query.direction],
        [
          streamId,
          query.fromVersion === undefined ? null : String(query.fromVersion),
          limit,
          query.tenantId ?? null,
          query.snapshot?.name ?? null,
          query.snapshot?.stateVersion ?? null,
        ],
      );
      if (rows.length === 0) return { streamId, streamVersion: 0, events: [], next: undefined };
      const [version, deletedAtMs, deletedVersion, snapshotVersion, snapshotState, snapshotAtMs, tenantId] =
        rows[0]!;
      const streamVersion = Number(version);
      if (deletedAtMs !== null) throw new StreamDeletedError(streamId, streamVersion, new Date(deletedAtMs));
      const events: StoredEvent[] = [];
      for (const row of rows)
        if (row[STREAM_HEAD_COLUMNS] !== null) events.push(toStored(row, decode, STREAM_HEAD_COLUMNS));
      const floor = Number(deletedVersion) + 1;
      const full = query.maxCount !== undefined && events.length === query.maxCount;
      let next: number | undefined;
      const snapshot: Snapshot | undefined =
        snapshotVersion === null
          ? undefined
          : toSnapshot(streamId, query.snapshot!.name, [
              snapshotVersion,
              query.snapshot!.stateVersion,
              snapshotState!,
              tenantId,
              snapshotAtMs!,
            ]);
      if (query.direction === 'forwards') {
        const start = Math.max(floor, query.fromVersion ?? (snapshot ? snapshot.streamVersion + 1 : 1));
        const last = events.at(-1)?.version ?? start - 1;
        next = full && last < streamVersion ? last + 1 : undefined;
      } else {
        const last =
          events.at(-1)?.version ?? Math.min(streamVersion, query.fromVersion ?? streamVersion) + 1;
        next = full && last > floor ? last - 1 : undefined;
      }
      return snapshot === undefined
        ? { streamId, streamVersion, events, next }
        : { streamId, streamVersion, events, next, snapshot };
    },
    async readAll(query: AllQuery) {
      await ready();
      const after = decodeCheckpoint(query.after);
      const endAt = query.endAt === undefined ? undefined : decodeCheckpoint(query.endAt);
      if (query.maxCount === 0) return { events: [], next: query.after, hasMore: false };
      const { text, params } = readAllStatement(schema, query, { after, endAt }, query.maxCount);
      const rows = await run<[string | null, string | null, ...EventRow]>(sql, text, params);
      const events: StoredEvent[] = [];
      for (const row of rows)
        if (row[READ_ALL_HEAD_COLUMNS] !== null) events.push(toStored(row, decode, READ_ALL_HEAD_COLUMNS));
      const hasMore = events.length === query.maxCount;
      if (hasMore) return { events, next: events[events.length - 1]!.checkpoint, hasMore };
      // Not full: everything up to the head (or endAt) was looked at; resume there, never behind `after`.
      const [headTransaction, headPosition] = rows[0] ?? [null, null];
      let reached =
        headTransaction === null ? START : { transactionId: headTransaction, position: headPosition! };
      if (endAt !== undefined && compareCursors(endAt, reached) < 0) reached = endAt;
      const next =
        compareCursors(reached, after) > 0
          ? encodeCursor(reached)
          : events.length > 0
            ? events[events.length - 1]!.checkpoint
            : query.after;
      return { events, next, hasMore };
    },
    async head() {
      await ready();
      const [row] = await run<[string, string]>(sql, headText, []);
      return row === undefined ? undefined : `${row[0]}:${row[1]}`;
    },
    async count(query) {
      await ready();
      const after = decodeCheckpoint(query.after);
      const endAt = query.endAt === undefined ? undefined : decodeCheckpoint(query.endAt);
      const { text, params } = countStatement(schema, query, { after, endAt });
      const [row] = await run<[string]>(sql, text, params);
      return Number(row![0]);
    },
    async deleteStream(streamId, expected, tenantId) {
      await ready();
      return sql.begin(async (tx) => {
        const [row] = await run<[string, string, number | null]>(tx, lockStreamStatement(schema), [streamId]);
        const visible = row !== undefined && (tenantId === undefined || row[0] === tenantId);
        const version = visible ? Number(row[1]) : 0;
        if (visible && row[2] !== null) {
          return { streamId, version, deletedAt: new Date(row[2]) };
        }
        if (!visible || !satisfiesExpectedVersion(expected, version)) {
          throw new WrongExpectedVersionError(streamId, expected, version);
        }
        const [deleted] = await run<[string, number]>(tx, deleteStreamStatement(schema), [streamId]);
        return { streamId, version: Number(deleted![0]), deletedAt: new Date(deleted![1]) };
      }) as Promise<{ streamId: string; version: number; deletedAt: Date }>;
    },
    async readSnapshot(streamId, name, tenantId) {
      await ready();
      const [row] = await run<SnapshotRow>(sql, readSnapshotStatement(schema), [
        streamId,
        name,
        tenantId ?? null,
      ]);
      return row === undefined ? undefined : toSnapshot(streamId, name, row);
    },
    async writeSnapshot(snapshot, tenantId) {
      await ready();
      const rows = await run<[number]>(sql, writeSnapshotStatement(schema), [
        snapshot.streamId,
        snapshot.name,
        String(snapshot.streamVersion),
        snapshot.stateVersion,
        JSON.stringify(snapshot.state),
        tenantId ?? null,
      ]);
      return rows.length > 0;
    },
    async transaction(work) {
      await ready();
      return sql.begin((tx) => work(transactionOf(tx))) as Promise<Awaited<ReturnType<typeof work>>>;
    },
    outbox: {
      async pending(maxCount, tenantId) {
        await ready();
        const rows = await run<OutboxRow>(sql, pendingOutboxStatement(schema), [maxCount, tenantId ?? null]);
        return rows.map(
          ([id, streamId, version, position, tenant, topic, json]): OutboxEntry => ({
            id: BigInt(id),
            event: decodeAsWritten(json),
            streamId,
            version: Number(version),
            position: BigInt(position),
            tenantId: tenant,
            topic: topic ?? undefined,
          }),
        );
      },
      async markSent(ids, tenantId) {
        await ready();
        const [row] = await run<[number]>(sql, markSentStatement(schema), [
          ids.map(String),
          tenantId ?? null,
        ]);
        return row![0];
      },
      async pendingCount(tenantId) {
        await ready();
        const [row] = await run<[number]>(sql, pendingCountStatement(schema), [tenantId ?? null]);
        return row![0];
      },
      lease: (name) => lease(name),
    },
    async archive(query) {
      await ready();
      const report = {
        before: query.before,
        exported: 0,
        removed: 0,
        firstPosition: undefined as bigint | undefined,
        lastPosition: undefined as bigint | undefined,
        batches: 0,
      };
      for (;;) {
        const done = (await sql.begin(async (tx) => {
          const rows = await run<ArchiveRow>(tx, archiveBatchStatement(schema), [
            query.before.toISOString(),
            query.batchSize,
            query.tenantId ?? null,
            query.streamPrefix ?? null,
          ]);
          if (rows.length === 0) return true;
          await query.write(
            rows.map((r) => archivedLine(r[0], r[1], Number(r[2]), r[3], r[4], r[5])).join(''),
          );
          const [removed] = await run<[number]>(tx, removeArchivedStatement(schema), [rows.map((r) => r[0])]);
          if (removed![0] !== rows.length) throw new ArchiveMismatchError(rows.length, removed![0]);
          report.exported += rows.length;
          report.removed += removed![0];
          report.batches += 1;
          report.firstPosition ??= BigInt(rows[0]![0]);
          report.lastPosition = BigInt(rows[rows.length - 1]![0]);
          return rows.length < query.batchSize;
        })) as boolean;
        if (done) break;
      }
      if (query.tenantId === undefined && query.streamPrefix === undefined) {
        await run(sql, purgeSentOutboxStatement(schema), [query.before.toISOString()]);
      }
      return report;
    },
    waitForAppends: async (ms, signal) => {
      // Appends through this store wake its subscriptions at once; other writers are seen by polling.
      let wake: () => void = () => {};
      const woken = new Promise<void>((resolve) => {
        wake = resolve;
      });
      localWakers.add(wake);
      const stop = new AbortController();
      const onAbort = () => stop.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      await Promise.race([woken, sleepUnlessAborted(ms, stop.signal)]);
      stop.abort();
      signal.removeEventListener('abort', onAbort);
      localWakers.delete(wake);
    },
    async close() {
      // Leases hold reserved connections: give them back (and the locks up) before the pool ends.
      await Promise.allSettled([...leases].map((held) => held.release()));
      if (owned) await sql.end({ timeout: 5 });
    },
  };
  const outbox = options.outbox === true ? () => true : options.outbox === false ? undefined : options.outbox;
  return createStoreHandle(core, { hooks: options.onAppend ?? [], outbox });
}
