import type { Database } from 'better-sqlite3';
import BetterSqlite3 from 'better-sqlite3';

/** How Keel opens one of its SQLite files; every part that keeps a SQLite file opens it through here. */
export interface OpenSqliteOptions {
  /** File path, or `:memory:` for a private in-memory database. */
  path: string;
  /** `full` (default) fsyncs every commit and survives power loss; `normal` survives process crashes only. */
  synchronous?: 'normal' | 'full';
  /** Milliseconds a writer waits for another connection's write transaction before failing (default 5,000). */
  busyTimeoutMs?: number;
  /**
   * Hold SQLite's lock for as long as the connection is open (`locking_mode = EXCLUSIVE`), so a second
   * owner fails at once with SQLITE_BUSY instead of sharing the file.
   */
  exclusive?: boolean;
  /** Creates or migrates the file's tables; runs once the pragmas are set, before the database is returned. */
  prepare?: (db: Database) => void;
}

/** Largest size (bytes) the WAL file keeps after a checkpoint: without a limit it stays at its peak forever. */
const JOURNAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * Opens (creating if needed) a SQLite file in WAL mode with Keel's pragmas and prepares its tables;
 * on any failure the connection is closed and the error thrown as it came.
 */
export function openSqlite(options: OpenSqliteOptions): Database {
  const db = new BetterSqlite3(options.path);
  try {
    // busy_timeout first: switching to WAL and migrating can meet another process doing the same.
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5_000))}`);
    // Exclusive locking before the first WAL access: no shared-memory index, and the lock taken by the
    // first write is held until close.
    if (options.exclusive === true) db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
    db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`);
    options.prepare?.(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}
