import type { Database } from 'better-sqlite3';
import BetterSqlite3 from 'better-sqlite3';
import { migrate } from './schema.ts';

/** How to open the embedded log's SQLite file. */
export interface OpenDatabaseOptions {
  /** File path, or `:memory:` for a private in-memory log. */
  path: string;
  /** `full` fsyncs every commit (survives power loss); `normal` only survives process crashes. */
  synchronous: 'normal' | 'full';
  /** Milliseconds a writer waits for another process's write transaction before failing. */
  busyTimeoutMs: number;
}

/** Opens (creating if needed) the log file in WAL mode and migrates its schema. */
export function openDatabase(options: OpenDatabaseOptions): Database {
  const db = new BetterSqlite3(options.path);
  try {
    // busy_timeout first: switching to WAL and migrating can meet another process doing the same.
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs))}`);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
    // Without a limit the WAL file keeps its largest size forever after a burst.
    db.pragma('journal_size_limit = 67108864');
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}
