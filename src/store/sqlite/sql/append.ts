import type { Database } from 'better-sqlite3';
import { EVENT_COLUMNS, type SqliteEventRow } from './event-row.ts';

/** A stream's owner, version and tombstone. */
export interface SqliteStreamRow {
  tenant_id: string;
  version: bigint;
  /** Milliseconds since the epoch when it was deleted; null while it is live. */
  deleted_at: bigint | null;
  /** Versions up to this one belong to the stream before it was deleted (0 when never deleted). */
  deleted_version: bigint;
}

/** An already-stored event found by id. */
export interface SqliteExistingRow extends SqliteEventRow {
  event_id: string;
}

/** An event row to insert. */
export interface SqliteNewEvent {
  streamId: string;
  version: number;
  tenantId: string;
  eventId: string;
  type: string;
  correlationId: string | null;
  /** Milliseconds since the epoch. */
  recordedAt: number;
  json: string;
}

/** The statements an append runs inside its write transaction. */
export interface SqliteAppendStatements {
  stream(streamId: string): SqliteStreamRow | undefined;
  /** Stored events among these ids, wherever they are. */
  existing(eventIds: readonly string[]): SqliteExistingRow[];
  /** Inserts one event; returns its global position. */
  insert(row: SqliteNewEvent): bigint;
  /** Creates the stream or moves its version, clearing a tombstone (milliseconds since the epoch for `now`). */
  saveStream(streamId: string, tenantId: string, version: number, now: number): void;
  /** Writes an outbox row for an event just inserted (`topic` null: the relay picks). */
  outbox(row: SqliteNewEvent & { position: bigint; topic: string | null }): void;
}

/** Prepares the append statements on one connection. */
export function prepareSqliteAppend(db: Database): SqliteAppendStatements {
  const stream = db
    .prepare<[string], SqliteStreamRow>(
      'SELECT tenant_id, version, deleted_at, deleted_version FROM store_streams WHERE stream_id = ?',
    )
    .safeIntegers(true);
  const existing = db
    .prepare<[string], SqliteExistingRow>(
      `SELECT event_id, ${EVENT_COLUMNS} FROM store_events
       WHERE event_id IN (SELECT value FROM json_each(?)) ORDER BY position`,
    )
    .safeIntegers(true);
  const insert = db
    .prepare(
      `INSERT INTO store_events (stream_id, version, tenant_id, event_id, type, correlation_id, recorded_at, event)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING position`,
    )
    .pluck()
    .safeIntegers(true);
  const saveStream = db.prepare(
    `INSERT INTO store_streams (stream_id, tenant_id, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (stream_id) DO UPDATE
       SET version = excluded.version, updated_at = excluded.updated_at, deleted_at = NULL`,
  );
  const outbox = db.prepare(
    `INSERT INTO store_outbox (event_id, stream_id, version, position, tenant_id, topic, event, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  return {
    stream: (streamId) => stream.get(streamId),
    existing: (eventIds) => existing.all(JSON.stringify(eventIds)),
    insert: (row) =>
      insert.get(
        row.streamId,
        row.version,
        row.tenantId,
        row.eventId,
        row.type,
        row.correlationId,
        row.recordedAt,
        row.json,
      ) as bigint,
    saveStream: (streamId, tenantId, version, now) => {
      saveStream.run(streamId, tenantId, version, now, now);
    },
    outbox: (row) => {
      outbox.run(
        row.eventId,
        row.streamId,
        row.version,
        row.position,
        row.tenantId,
        row.topic,
        row.json,
        row.recordedAt,
      );
    },
  };
}
