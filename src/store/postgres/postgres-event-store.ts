import postgres, { type Sql, type TransactionSql } from 'postgres';
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
import { sleepUnlessAborted } from '../subscription.ts';
import { migratePostgresStore, quoteIdentifier } from './schema.ts';
import { type AppendRow, appendParameters, appendStatement, streamStateStatement } from './sql/append.ts';
import type { EventRow } from './sql/event-columns.ts';
import { type CommitCursor, readAllStatement } from './sql/read-all.ts';
import { readStreamStatement } from './sql/read-stream.ts';

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
  /** With `url`: most connections the store opens; default 10. */
  maxConnections?: number;
}

/** Default schema of the PostgreSQL store. */
export const DEFAULT_POSTGRES_SCHEMA = 'keel';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const CHECKPOINT = /^(0|[1-9][0-9]{0,19}):(0|[1-9][0-9]{0,18})$/;
const START: CommitCursor = { transactionId: '0', position: '0' };
const UNIQUE_VIOLATION = '23505';
const EVENT_ID_KEY = 'store_events_event_id_key';

/** The commit cursor in a PostgreSQL checkpoint: `<transaction id>:<position>`. */
function decodeCheckpoint(checkpoint: string | undefined): CommitCursor {
  if (checkpoint === undefined) return START;
  const match = typeof checkpoint === 'string' ? CHECKPOINT.exec(checkpoint) : null;
  if (match === null) throw new InvalidCheckpointError(String(checkpoint), 'postgres');
  return { transactionId: match[1]!, position: match[2]! };
}

type Runner = Sql | TransactionSql;

// The driver's parameter type is a union of what it can serialize; the statements here cast each one.
const run = <Row extends readonly unknown[]>(runner: Runner, text: string, params: readonly unknown[]) =>
  runner.unsafe(text, params as never[], { prepare: true }).values() as unknown as Promise<Row[]>;

/**
 * The PostgreSQL event store (PostgreSQL ≥ 14; `xid8` and `pg_current_xact_id()` are from 13). The schema
 * is migrated on first use. Appends are one function call (one round trip without hooks); reads never
 * pass an event that commits later (see `sql/read-all.ts`).
 */
export function createPostgresEventStore(options: PostgresEventStoreOptions): EventStore {
  const schemaName = options.schema ?? DEFAULT_POSTGRES_SCHEMA;
  if (!SCHEMA_NAME.test(schemaName)) {
    throw new TypeError(
      `createPostgresEventStore: schema "${schemaName}" must be lower-case letters, digits and '_' (at most 63)`,
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
  const appendText = appendStatement(schema);
  const stateText = streamStateStatement(schema);
  const streamText = {
    forwards: readStreamStatement(schema, 'forwards'),
    backwards: readStreamStatement(schema, 'backwards'),
  };
  const localWakers = new Set<() => void>();

  let migrated: Promise<void> | undefined;
  const ready = (): Promise<void> => {
    migrated ??= migratePostgresStore(sql, schemaName).catch((error) => {
      migrated = undefined; // a failed migration (server down, ...) is tried again by the next call
      throw error;
    });
    return migrated;
  };

  const toStored = (row: EventRow, decoder: EventDecoder): StoredEvent => ({
    event: decoder(row[6]),
    streamId: row[2],
    version: Number(row[3]),
    position: BigInt(row[0]),
    tenantId: row[4],
    recordedAt: new Date(row[5]),
    checkpoint: `${row[1]}:${row[0]}`,
  });

  const appendOnce = async (append: PreparedAppend, hook: AppendHook | undefined): Promise<AppendResult> => {
    const params = appendParameters(append, DEFAULT_TENANT);
    const write = async (runner: Runner) => {
      const rows = await run<AppendRow>(runner, appendText, params);
      return toResult(append, rows);
    };
    if (hook === undefined) return (await write(sql)).result;
    return sql.begin(async (tx) => {
      const { result, written } = await write(tx);
      if (written.length > 0) {
        const transaction: StoreTransaction = {
          dialect: 'postgres',
          query: async <Row>(text: string, values: readonly unknown[] = []) =>
            [...(await tx.unsafe(text, values as never[]))] as Row[],
        };
        await hook({
          streamId: result.streamId,
          tenantId: result.tenantId,
          events: written,
          streamVersion: result.nextExpectedVersion,
          transaction,
        });
      }
      return result;
    }) as Promise<AppendResult>;
  };

  const toResult = (
    append: PreparedAppend,
    rows: AppendRow[],
  ): { result: AppendResult; written: StoredEvent[] } => {
    const byId = new Map<string, StoredEvent>();
    const written: StoredEvent[] = [];
    const duplicateIds = new Set<string>();
    const given = new Map(append.events.map((e) => [e.id, e]));
    let tenantId = append.tenantId ?? DEFAULT_TENANT;
    let streamVersion = 0;
    for (const [
      tenant,
      version,
      eventId,
      position,
      eventVersion,
      recordedAtMs,
      transactionId,
      duplicate,
      json,
    ] of rows) {
      tenantId = tenant;
      streamVersion = Number(version);
      const stored: StoredEvent = {
        event: duplicate ? decodeAsWritten(json!) : given.get(eventId)!.event,
        streamId: append.streamId,
        version: Number(eventVersion),
        position: BigInt(position),
        tenantId: tenant,
        recordedAt: new Date(recordedAtMs),
        checkpoint: `${transactionId}:${position}`,
      };
      byId.set(eventId, stored);
      if (duplicate) duplicateIds.add(eventId);
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
  };

  const appendNothing = async (append: PreparedAppend): Promise<AppendResult> => {
    const [row] = await run<[string, string]>(sql, stateText, [append.streamId]);
    const tenantId = append.tenantId ?? row?.[0] ?? DEFAULT_TENANT;
    if (row !== undefined && row[0] !== tenantId) {
      throw new TenantMismatchError(append.streamId, tenantId, 'the stream belongs to another tenant');
    }
    const version = row === undefined ? 0 : Number(row[1]);
    if (!satisfiesExpectedVersion(append.expected, version)) {
      throw new WrongExpectedVersionError(append.streamId, append.expected, version);
    }
    return { streamId: append.streamId, tenantId, nextExpectedVersion: version, events: [], duplicates: [] };
  };

  const refusal = (append: PreparedAppend, error: unknown): Error | undefined => {
    const { code, detail } = error as { code?: string; detail?: string };
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
      default:
        return undefined;
    }
  };

  const core: StoreCore = {
    name: 'postgres',
    async append(append, hook) {
      await ready();
      if (append.events.length === 0) return appendNothing(append);
      for (let attempt = 1; ; attempt++) {
        try {
          const result = await appendOnce(append, hook);
          for (const wake of localWakers) wake();
          return result;
        } catch (error) {
          const refused = refusal(append, error);
          if (refused !== undefined) throw refused;
          // A concurrent append stored one of these ids in another stream first: the retry sees it
          // committed and answers DuplicateEventIdError (or, in this stream, a duplicate).
          const { code, constraint_name: constraint } = error as { code?: string; constraint_name?: string };
          if (code === UNIQUE_VIOLATION && constraint === EVENT_ID_KEY && attempt < 3) continue;
          throw error;
        }
      }
    },
    async readStream(streamId, query: StreamQuery) {
      await ready();
      const limit = query.maxCount === undefined ? null : String(query.maxCount);
      const rows = await run<[string, ...(EventRow | [null, null, null, null, null, null, null])]>(
        sql,
        streamText[query.direction],
        [
          streamId,
          query.fromVersion === undefined ? null : String(query.fromVersion),
          limit,
          query.tenantId ?? null,
        ],
      );
      if (rows.length === 0) return { streamId, streamVersion: 0, events: [], next: undefined };
      const streamVersion = Number(rows[0]![0]);
      const events = rows.filter((r) => r[1] !== null).map((r) => toStored(r.slice(1) as EventRow, decode));
      const full = query.maxCount !== undefined && events.length === query.maxCount;
      let next: number | undefined;
      if (query.direction === 'forwards') {
        const last = events.at(-1)?.version ?? Math.max(1, query.fromVersion ?? 1) - 1;
        next = full && last < streamVersion ? last + 1 : undefined;
      } else {
        const last =
          events.at(-1)?.version ?? Math.min(streamVersion, query.fromVersion ?? streamVersion) + 1;
        next = full && last > 1 ? last - 1 : undefined;
      }
      return { streamId, streamVersion, events, next };
    },
    async readAll(query: AllQuery) {
      await ready();
      const after = decodeCheckpoint(query.after);
      if (query.maxCount === 0) return { events: [], next: query.after, hasMore: false };
      const { text, params } = readAllStatement(schema, query, after, query.maxCount);
      const rows = await run<EventRow>(sql, text, params);
      const events = rows.map((row) => toStored(row, decode));
      return {
        events,
        next: events.length > 0 ? events[events.length - 1]!.checkpoint : query.after,
        hasMore: rows.length === query.maxCount,
      };
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
      if (owned) await sql.end({ timeout: 5 });
    },
  };
  return createStoreHandle(core, options.onAppend ?? []);
}
