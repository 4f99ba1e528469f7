import {
  DuplicateEventIdError,
  StreamDeletedError,
  TenantMismatchError,
  WrongExpectedVersionError,
} from '../errors.ts';
import {
  type AppendResult,
  DEFAULT_TENANT,
  type StoredEvent,
  type StoreTransaction,
} from '../event-store.ts';
import { satisfiesExpectedVersion } from '../expected-version.ts';
import type { PreparedAppend } from '../prepare-append.ts';
import type { StoreCore } from '../store-handle.ts';
import type { SqliteAppendStatements, SqliteStreamRow } from './sql/append.ts';
import { type SqliteContext, toStoredEvent } from './sqlite-context.ts';

type Written = { result: AppendResult; written: StoredEvent[] };

/** The tombstone of a deleted stream, as the error its readers and writers get. */
export function deletedError(streamId: string, stream: SqliteStreamRow): StreamDeletedError {
  return new StreamDeletedError(streamId, Number(stream.version), new Date(Number(stream.deleted_at)));
}

/** Inserts the events not stored yet after `version`, with their outbox rows; moves the stream's version. */
function insertNew(
  sql: SqliteAppendStatements,
  append: PreparedAppend,
  tenantId: string,
  startVersion: number,
  stored: Map<string, StoredEvent>,
): { written: StoredEvent[]; version: number } {
  const { streamId, events } = append;
  const now = Date.now();
  const recordedAt = new Date(now);
  const written: StoredEvent[] = [];
  let version = startVersion;
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
    const position = sql.insert(row);
    if (event.outboxTopic !== null) {
      sql.outbox({ ...row, position, topic: event.outboxTopic === '' ? null : event.outboxTopic });
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
  if (written.length > 0) sql.saveStream(streamId, tenantId, version, now);
  return { written, version };
}

/** Runs inside BEGIN IMMEDIATE: checks tenant, ids and the expected version, then writes. */
export function writeAppend(
  ctx: SqliteContext,
  sql: SqliteAppendStatements,
  append: PreparedAppend,
): Written {
  const { streamId, expected, events } = append;
  const stream = sql.stream(streamId);
  const tenantId = append.tenantId ?? stream?.tenant_id ?? DEFAULT_TENANT;
  if (stream !== undefined && stream.tenant_id !== tenantId) {
    throw new TenantMismatchError(streamId, tenantId, 'the stream belongs to another tenant');
  }
  const version = Number(stream?.version ?? 0n);
  const existing = events.length === 0 ? [] : sql.existing(events.map((e) => e.id));
  const elsewhere = existing.find((row) => row.stream_id !== streamId);
  if (elsewhere !== undefined) throw new DuplicateEventIdError(elsewhere.event_id, streamId);
  const existingIds = new Set(existing.map((row) => row.event_id));
  const stored = new Map(existing.map((row) => [row.event_id, toStoredEvent(row, ctx.decodeAsWritten)]));
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
  const inserted = insertNew(sql, append, tenantId, version, stored);
  return {
    result: {
      streamId,
      tenantId,
      nextExpectedVersion: inserted.version,
      events: events.map((e) => stored.get(e.id)!),
      duplicates: events.filter((e) => existingIds.has(e.id)).map((e) => e.id),
    },
    written: inserted.written,
  };
}

/** The store's append: one write transaction at a time, the hook inside it, subscriptions woken after commit. */
export function createSqliteAppend(
  ctx: SqliteContext,
  sql: SqliteAppendStatements,
  transaction: StoreTransaction,
): StoreCore['append'] {
  const { db } = ctx;
  return (append, hook) =>
    ctx.serial.exclusive(async () => {
      db.exec('BEGIN IMMEDIATE');
      try {
        const { result, written } = writeAppend(ctx, sql, append);
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
        if (written.length > 0) ctx.notify();
        return result;
      } catch (error) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw error;
      }
    });
}
