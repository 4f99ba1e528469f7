// Pattern state on SQLite: pending events of open patterns, the next offset of every partition applied,
// and the matches not yet published, all changed in one transaction per event.
import type { Database } from 'better-sqlite3';
import type { MigrationSet } from '../../sql/migration.ts';
import { runSqliteMigrations } from '../../sql/sqlite/migration-runner.ts';

const patternSet: MigrationSet = {
  table: 'analytics_migrations',
  component: { name: 'analytics pattern state', code: 'KEEL_ANALYTICS_SCHEMA' },
  migrations: [
    {
      version: 1,
      description: 'pending pattern events, per-partition checkpoints, match outbox',
      sql: `
        CREATE TABLE analytics_pending (
          rule TEXT NOT NULL,
          key TEXT NOT NULL,
          source TEXT NOT NULL,
          event_id TEXT NOT NULL,
          event_time INTEGER NOT NULL,
          deadline INTEGER NOT NULL,
          PRIMARY KEY (rule, event_id)
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX analytics_pending_by_key ON analytics_pending (rule, key, event_time);
        CREATE INDEX analytics_pending_by_deadline ON analytics_pending (rule, source, deadline);
        CREATE TABLE analytics_checkpoints (
          topic TEXT NOT NULL,
          partition INTEGER NOT NULL,
          next_offset INTEGER NOT NULL,
          PRIMARY KEY (topic, partition)
        ) STRICT, WITHOUT ROWID;
        CREATE TABLE analytics_outbox (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          id TEXT NOT NULL UNIQUE,
          match TEXT NOT NULL
        ) STRICT;
      `,
    },
  ],
};

/** An event waiting in an open pattern. */
export interface PendingEvent {
  eventId: string;
  /** Event time, milliseconds since the epoch. */
  eventTime: number;
}

/** A match recorded with the state change that made it, waiting to be published. */
export interface OutboxMatch {
  seq: number;
  id: string;
  match: string;
}

/** The SQL operations the matcher uses; every one runs inside the caller's transaction. */
export interface PatternState {
  readonly db: Database;
  nextOffset(topic: string, partition: number): bigint | undefined;
  setNextOffset(topic: string, partition: number, offset: bigint): void;
  add(rule: string, key: string, source: string, event: PendingEvent, deadline: number): void;
  /** Pending events of a key from `fromTime` on, oldest first. */
  ofKey(rule: string, key: string, fromTime: number): PendingEvent[];
  /** Removes a key's pending events older than `beforeTime`. */
  dropOlder(rule: string, key: string, beforeTime: number): void;
  /** Removes a key's pending events whose deadline is at or after `time` and time at or before it (cancelled absences). */
  cancelOpen(rule: string, key: string, time: number): void;
  /** Pending events of one source (topic/partition, or any when undefined) whose deadline is before `time`. */
  expired(rule: string, source: string | undefined, time: number): (PendingEvent & { key: string })[];
  remove(rule: string, eventId: string): void;
  enqueue(id: string, match: string): void;
  outbox(limit: number): OutboxMatch[];
  dequeue(upToSeq: number): void;
}

/** Prepares the pattern tables of a SQLite connection and the statements over them. */
export function createPatternState(db: Database): PatternState {
  runSqliteMigrations(db, patternSet);
  const q = {
    next: db
      .prepare('SELECT next_offset FROM analytics_checkpoints WHERE topic = ? AND partition = ?')
      .pluck()
      .safeIntegers(),
    setNext: db.prepare(
      'INSERT INTO analytics_checkpoints (topic, partition, next_offset) VALUES (?, ?, ?) ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset',
    ),
    add: db.prepare('INSERT OR IGNORE INTO analytics_pending VALUES (?, ?, ?, ?, ?, ?)'),
    ofKey: db.prepare(
      'SELECT event_id AS eventId, event_time AS eventTime FROM analytics_pending WHERE rule = ? AND key = ? AND event_time >= ? ORDER BY event_time, event_id',
    ),
    dropOlder: db.prepare('DELETE FROM analytics_pending WHERE rule = ? AND key = ? AND event_time < ?'),
    cancelOpen: db.prepare(
      'DELETE FROM analytics_pending WHERE rule = ? AND key = ? AND event_time <= ? AND deadline >= ?',
    ),
    expiredIn: db.prepare(
      'SELECT event_id AS eventId, event_time AS eventTime, key FROM analytics_pending WHERE rule = ? AND source = ? AND deadline < ? ORDER BY deadline, event_id',
    ),
    expiredAll: db.prepare(
      'SELECT event_id AS eventId, event_time AS eventTime, key FROM analytics_pending WHERE rule = ? AND deadline < ? ORDER BY deadline, event_id',
    ),
    remove: db.prepare('DELETE FROM analytics_pending WHERE rule = ? AND event_id = ?'),
    enqueue: db.prepare('INSERT OR IGNORE INTO analytics_outbox (id, match) VALUES (?, ?)'),
    outbox: db.prepare('SELECT seq, id, match FROM analytics_outbox ORDER BY seq LIMIT ?'),
    dequeue: db.prepare('DELETE FROM analytics_outbox WHERE seq <= ?'),
  };
  return {
    db,
    nextOffset: (topic, partition) => q.next.get(topic, partition) as bigint | undefined,
    setNextOffset: (topic, partition, offset) => void q.setNext.run(topic, partition, offset),
    add: (rule, key, source, event, deadline) =>
      void q.add.run(rule, key, source, event.eventId, event.eventTime, deadline),
    ofKey: (rule, key, fromTime) => q.ofKey.all(rule, key, fromTime) as PendingEvent[],
    dropOlder: (rule, key, beforeTime) => void q.dropOlder.run(rule, key, beforeTime),
    cancelOpen: (rule, key, time) => void q.cancelOpen.run(rule, key, time, time),
    expired: (rule, source, time) =>
      (source === undefined
        ? q.expiredAll.all(rule, time)
        : q.expiredIn.all(rule, source, time)) as (PendingEvent & { key: string })[],
    remove: (rule, eventId) => void q.remove.run(rule, eventId),
    enqueue: (id, match) => void q.enqueue.run(id, match),
    outbox: (limit) => q.outbox.all(limit) as OutboxMatch[],
    dequeue: (upToSeq) => void q.dequeue.run(upToSeq),
  };
}
