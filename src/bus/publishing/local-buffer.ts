import type { Database, Statement } from 'better-sqlite3';
import { z } from 'zod';
import type { KeelMetrics } from '../../observability/metrics.ts';
import { openSqlite } from '../../sql/sqlite/open-sqlite.ts';
import type { OutgoingRecord } from '../../transport/transport.ts';
import { BufferFullError, BufferLockedError } from './errors.ts';
import type { PlacedEvent } from './placed-event.ts';
import { parseOptions } from './publish-policy.ts';

/** Where and how much a publisher keeps while the transport is unreachable. */
export interface LocalBufferOptions {
  /** SQLite file of the buffer, created when missing; one publisher owns it (the platform node uses `<dataDir>/publish-buffer.db`). */
  path: string;
  /** Most events held; a publish that would go over fails with BufferFullError; default 100 000. */
  maxEvents?: number;
  /** Most bytes of encoded events held; default 128 MiB. */
  maxBytes?: number;
  /** Most events re-sent in one append when flushing (one publish's events always go together); default 500. */
  flushBatchEvents?: number;
  /** Most bytes re-sent in one append when flushing (one publish's events always go together); default 1 MiB. */
  flushBatchBytes?: number;
}

/** Buffer options with their defaults. */
export const localBufferOptionsSchema = z.strictObject({
  path: z.string({ error: 'expected a file path' }).min(1, { error: 'expected a file path' }),
  maxEvents: z.int().min(1).default(100_000),
  maxBytes: z
    .int()
    .min(1)
    .default(128 * 1024 * 1024),
  flushBatchEvents: z.int().min(1).default(500),
  flushBatchBytes: z
    .int()
    .min(1)
    .default(1024 * 1024),
});

/** One buffered event, as read back for flushing. */
export interface BufferedEvent {
  /** Insertion order in the buffer, from 1. */
  seq: number;
  /** Publish call it came from: its events are appended together. */
  group: number;
  /** Its group came from a transaction: it must be appended all-or-nothing (`appendAtomically`). */
  atomic: boolean;
  topic: string;
  partition: number;
  id: string;
  type: string;
  record: OutgoingRecord;
  /** Encoded size in bytes. */
  size: number;
}

/** A local durable buffer of events waiting for the transport, flushed oldest first. */
export interface LocalBuffer {
  readonly path: string;
  /** Events held now. */
  count(): number;
  /** Bytes of encoded events held now. */
  bytes(): number;
  /**
   * Durably stores the events of one publish, as one group, behind everything held (one SQLite
   * transaction, fsynced before it returns); `atomic` marks a transaction's group, to be appended
   * all-or-nothing. Throws BufferFullError, storing nothing, when over a limit.
   */
  add(placed: readonly PlacedEvent[], atomic?: boolean): void;
  /**
   * The oldest events, in insertion order, as whole groups: up to the flush batch limits, or just the
   * oldest group when `oneGroup` (a larger group still comes whole). Undefined when empty.
   */
  peek(oneGroup?: boolean): BufferedEvent[] | undefined;
  /** Deletes events up to and including `seq` (after the transport acknowledged them). */
  remove(seq: number): void;
  /** Moves events up to and including `seq` to the `failed_events` table with the error, out of the flush order. */
  quarantine(seq: number, error: unknown): void;
  /** Releases the file; what is held stays on disk for the next publisher that opens it. */
  close(): void;
}

/** What `openLocalBuffer` needs beside the options. */
export interface OpenLocalBufferContext {
  /** Publisher name, the `name` label of `keel_publish_buffer_events`. */
  name: string;
  metrics: KeelMetrics | undefined;
}

interface Row {
  seq: number;
  grp: number;
  atomic: 0 | 1;
  topic: string;
  partition: number;
  event_id: string;
  event_type: string;
  key: string | null;
  value: Buffer | null;
  headers: string;
  size: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS buffered_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  grp INTEGER NOT NULL,
  topic TEXT NOT NULL,
  partition INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  key TEXT,
  value BLOB,
  headers TEXT NOT NULL,
  size INTEGER NOT NULL,
  buffered_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS failed_events (
  seq INTEGER PRIMARY KEY,
  grp INTEGER NOT NULL,
  topic TEXT NOT NULL,
  partition INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  key TEXT,
  value BLOB,
  headers TEXT NOT NULL,
  size INTEGER NOT NULL,
  buffered_at INTEGER NOT NULL,
  failed_at INTEGER NOT NULL,
  error TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS atomic_groups (
  grp INTEGER PRIMARY KEY
);
`;
const COLUMNS = 'seq, grp, topic, partition, event_id, event_type, key, value, headers, size';
const READ_COLUMNS = `${COLUMNS}, EXISTS (SELECT 1 FROM atomic_groups a WHERE a.grp = buffered_events.grp) AS atomic`;

/**
 * Opens (creating if needed) a publisher's local buffer: a SQLite file in WAL mode with
 * `synchronous=FULL`, locked exclusively for as long as it is open, so that two publishers never
 * flush the same events. Throws BufferLockedError when another connection holds it.
 */
export function openLocalBuffer(options: LocalBufferOptions, context: OpenLocalBufferContext): LocalBuffer {
  const settings = parseOptions(localBufferOptionsSchema, options, 'buffer');
  const { path, maxEvents, maxBytes } = settings;
  let db: Database;
  try {
    // Held exclusively from the schema's first write until close: a second owner fails at once instead of racing.
    db = openSqlite({ path, busyTimeoutMs: 0, exclusive: true, prepare: (opened) => opened.exec(SCHEMA) });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'SQLITE_BUSY') throw new BufferLockedError(path, error);
    throw error;
  }

  const statements = prepareStatements(db);
  const totals = statements.totals();

  let events = totals.events;
  let bytes = totals.bytes;
  let nextGroup = totals.grp + 1;
  let open = true;
  const report = () => context.metrics?.publishBufferEvents.set({ name: context.name }, events);
  report();

  const forget = (seq: number) => statements.sizeUpTo.get(seq) ?? { events: 0, bytes: 0 };

  return {
    path,
    count: () => events,
    bytes: () => bytes,

    add(placed, atomic = false) {
      if (!open) throw new Error(`publish buffer ${path} is closed`);
      let size = 0;
      for (const item of placed) size += item.size;
      if (events + placed.length > maxEvents || bytes + size > maxBytes) {
        throw new BufferFullError({
          path,
          events,
          maxEvents,
          bytes,
          maxBytes,
          refusedEvents: placed.length,
          refusedBytes: size,
        });
      }
      statements.add.immediate(placed, nextGroup++, atomic);
      events += placed.length;
      bytes += size;
      report();
    },

    peek(oneGroup = false) {
      const rows = statements.head.all(oneGroup ? 1 : settings.flushBatchEvents);
      if (rows.length === 0) return undefined;
      const batch = rows.slice(0, wholeGroups(rows, oneGroup ? 0 : settings.flushBatchBytes));
      const last = batch[batch.length - 1]!;
      // The row limit may have cut the last group short: events of one publish go together.
      batch.push(...statements.restOfGroup.all(last.grp, last.seq));
      return batch.map(toEvent);
    },

    remove(seq) {
      const gone = forget(seq);
      statements.deleteUpTo(seq);
      events -= gone.events;
      bytes -= gone.bytes;
      report();
    },

    quarantine(seq, error) {
      const gone = forget(seq);
      const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      statements.quarantine.immediate(seq, text);
      events -= gone.events;
      bytes -= gone.bytes;
      report();
    },

    close() {
      if (!open) return;
      open = false;
      db.close();
    },
  };
}

/** The buffer's prepared statements and transactions. */
function prepareStatements(db: Database) {
  const insert = db.prepare(
    'INSERT INTO buffered_events (grp, topic, partition, event_id, event_type, key, value, headers, size, buffered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const head: Statement<[number], Row> = db.prepare(
    `SELECT ${READ_COLUMNS} FROM buffered_events ORDER BY seq LIMIT ?`,
  );
  const restOfGroup: Statement<[number, number], Row> = db.prepare(
    `SELECT ${READ_COLUMNS} FROM buffered_events WHERE grp = ? AND seq > ? ORDER BY seq`,
  );
  const markAtomic = db.prepare('INSERT INTO atomic_groups (grp) VALUES (?)');
  const deleteRows = db.prepare('DELETE FROM buffered_events WHERE seq <= ?');
  // Groups leave whole and in order: every mark below the oldest group still held is done with.
  const forgetMarks = db.prepare(
    'DELETE FROM atomic_groups WHERE grp < coalesce((SELECT grp FROM buffered_events ORDER BY seq LIMIT 1), 9223372036854775807)',
  );
  const deleteUpTo = db.transaction((seq: number) => {
    deleteRows.run(seq);
    forgetMarks.run();
  });
  const moveUpTo = db.prepare(
    `INSERT INTO failed_events (${COLUMNS}, buffered_at, failed_at, error) SELECT ${COLUMNS}, buffered_at, ?, ? FROM buffered_events WHERE seq <= ?`,
  );
  const totals = () =>
    db
      .prepare(
        'SELECT count(*) AS events, coalesce(sum(size), 0) AS bytes, max(coalesce((SELECT max(grp) FROM buffered_events), 0), coalesce((SELECT max(grp) FROM atomic_groups), 0)) AS grp FROM buffered_events',
      )
      .get() as { events: number; bytes: number; grp: number };
  const sizeUpTo: Statement<[number], { events: number; bytes: number }> = db.prepare(
    'SELECT count(*) AS events, coalesce(sum(size), 0) AS bytes FROM buffered_events WHERE seq <= ?',
  );

  const add = db.transaction((placed: readonly PlacedEvent[], group: number, atomic: boolean) => {
    const now = Date.now();
    if (atomic) markAtomic.run(group);
    for (const item of placed) {
      const { record } = item;
      insert.run(
        group,
        item.topic,
        item.partition,
        item.event.id,
        item.event.type,
        record.key,
        record.value === null
          ? null
          : Buffer.from(record.value.buffer, record.value.byteOffset, record.value.byteLength),
        JSON.stringify(record.headers),
        item.size,
        now,
      );
    }
  });
  const quarantine = db.transaction((seq: number, error: string) => {
    moveUpTo.run(Date.now(), error, seq);
    deleteUpTo(seq);
  });
  return { head, restOfGroup, deleteUpTo, totals, sizeUpTo, add, quarantine };
}

/**
 * How many of `rows` to flush: whole groups, the first always, then more while under `maxBytes`
 * (0: the first group only).
 */
function wholeGroups(rows: readonly Row[], maxBytes: number): number {
  let taken = 0;
  let size = 0;
  while (taken < rows.length) {
    const group = rows[taken]!.grp;
    if (taken > 0 && (maxBytes === 0 || size >= maxBytes)) break;
    while (taken < rows.length && rows[taken]!.grp === group) size += rows[taken++]!.size;
  }
  return taken;
}

/** A buffered row as the flusher reads it. */
function toEvent(row: Row): BufferedEvent {
  return {
    seq: row.seq,
    group: row.grp,
    atomic: row.atomic === 1,
    topic: row.topic,
    partition: row.partition,
    id: row.event_id,
    type: row.event_type,
    record: {
      key: row.key,
      value: row.value === null ? null : new Uint8Array(row.value),
      headers: JSON.parse(row.headers) as Record<string, string>,
    },
    size: row.size,
  };
}
