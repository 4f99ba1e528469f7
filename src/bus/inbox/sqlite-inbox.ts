import type Database from 'better-sqlite3';
import { openSqlite } from '../../sql/sqlite/open-sqlite.ts';
import type { Inbox } from './inbox.ts';

/** Where the SQLite inbox lives and how long it remembers. */
export interface SqliteInboxOptions {
  /** SQLite file (the embedded transport's file is a good home) or `:memory:`. */
  path: string;
  /** Milliseconds a handled id is remembered; default 7 days (longer than any redelivery). */
  retentionMs?: number;
  /** Milliseconds to wait for another writer's lock; default 5 000. */
  busyTimeoutMs?: number;
}

/** An inbox in a SQLite file, which can also run a local effect and its inbox row in one transaction. */
export interface SqliteInbox extends Inbox {
  /** The connection, for effects that write beside the inbox row. */
  readonly db: Database.Database;
  /**
   * Runs `effect` and records `eventId` as handled in ONE transaction, unless it was handled already:
   * the effect happens exactly once per group and event id, whatever the redeliveries.
   */
  runOnce<T>(
    group: string,
    eventId: string,
    effect: (db: Database.Database) => T,
  ): { handled: boolean; result?: T };
}

function createInboxTable(db: Database.Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS bus_inbox (
    group_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    handled_at INTEGER NOT NULL,
    PRIMARY KEY (group_id, event_id)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS bus_inbox_handled_at ON bus_inbox (handled_at);`);
}

/** Opens (and creates if needed) an inbox table in a SQLite file. */
export function createSqliteInbox(options: SqliteInboxOptions): SqliteInbox {
  const retentionMs = options.retentionMs ?? 7 * 24 * 3600 * 1000;
  const db = openSqlite({
    path: options.path,
    busyTimeoutMs: options.busyTimeoutMs,
    prepare: createInboxTable,
  });
  const seen = db
    .prepare<[string, string], number>('SELECT 1 FROM bus_inbox WHERE group_id = ? AND event_id = ?')
    .pluck();
  const insert = db.prepare(
    'INSERT OR IGNORE INTO bus_inbox (group_id, event_id, handled_at) VALUES (?, ?, ?)',
  );
  const expire = db.prepare('DELETE FROM bus_inbox WHERE handled_at < ?');
  const once = db.transaction(
    (group: string, eventId: string, effect: (db: Database.Database) => unknown) => {
      if (insert.run(group, eventId, Date.now()).changes === 0) return { handled: false };
      return { handled: true, result: effect(db) };
    },
  );
  return {
    db,
    seen: async (group, eventId) => seen.get(group, eventId) !== undefined,
    remember: async (group, eventId) => {
      insert.run(group, eventId, Date.now());
    },
    expire: async () => expire.run(Date.now() - retentionMs).changes,
    runOnce: (group, eventId, effect) =>
      once.immediate(group, eventId, effect) as { handled: boolean; result?: never },
    close: async () => {
      db.close();
    },
  };
}
