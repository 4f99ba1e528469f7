import type { Database } from 'better-sqlite3';
import { openSqlite } from '../../sql/sqlite/open-sqlite.ts';
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
  return openSqlite({ ...options, prepare: migrate });
}
