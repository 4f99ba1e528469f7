import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { z } from 'zod';
import { parseOptions } from '../../errors/options.ts';
import type { EventStore } from '../../store/event-store.ts';
import { CREATE_HISTORY_TABLES } from './history-tables.ts';
import { type LoadState, loadNewEvents, readLoadState } from './load-events.ts';
import { type QueryAnswer, runReadOnlyQuery } from './run-query.ts';

/** How the history database is opened. */
export const historyOptionsSchema = z.strictObject({
  /** DuckDB database file (created when missing); `:memory:` keeps it in memory. */
  path: z.string().min(1).default(':memory:'),
  /** Folder of exported files that queries may read by their full path (`read_parquet('<dir>/x.parquet')`); none: no file is readable. */
  exportsDir: z.string().min(1).optional(),
  /** Most rows a query returns by default. */
  defaultMaxRows: z.int().min(1).default(1000),
  /** Milliseconds a query may run by default. */
  defaultTimeoutMs: z.int().min(1).default(30_000),
  /** DuckDB's memory limit (`memory_limit`), e.g. `1GB`; DuckDB's default when absent. */
  memoryLimit: z.string().min(1).optional(),
});

/** Options of `openHistory`: the store to copy from, and where the database is. */
export type HistoryOptions = z.input<typeof historyOptionsSchema> & { store: EventStore };

/** Historical analysis: SQL (DuckDB) over a columnar copy of the event store and over exported files. */
export interface History {
  /** Copies events stored since the last call into the `events` table; resolves with how many. */
  catchUp(): Promise<number>;
  /**
   * Catches up, then runs one read-only SELECT. Throws QueryInvalidError (with where and why) for text that
   * does not parse, is not one SELECT, or does not bind; QueryTimeoutError past the time limit.
   */
  query(sql: string, limits?: { maxRows?: number; timeoutMs?: number }): Promise<QueryAnswer>;
  /** Where the copy is up to. */
  state(): Promise<LoadState>;
  /** A connection of our own (not a user's query): exports run on one. Close it when done. */
  connect(): Promise<DuckDBConnection>;
  /** The folder exported files are read from, absolute; undefined when none. */
  readonly exportsDir: string | undefined;
  /** Closes the database; queries under way fail. */
  close(): void;
}

/**
 * Opens (or creates) the history database. File access is locked down for every connection once the
 * tables exist: nothing outside `exportsDir` can be read or written, and no setting can be changed back.
 */
export async function openHistory(options: HistoryOptions): Promise<History> {
  const { store, ...rest } = options;
  const settings = parseOptions(historyOptionsSchema, rest, 'history');
  const exportsDir = settings.exportsDir === undefined ? undefined : resolve(settings.exportsDir);
  if (exportsDir) mkdirSync(exportsDir, { recursive: true });
  const instance = await DuckDBInstance.create(settings.path, {
    ...(settings.memoryLimit ? { memory_limit: settings.memoryLimit } : {}),
  });
  const loader = await instance.connect();
  await loader.run(CREATE_HISTORY_TABLES);
  await lockDown(loader, exportsDir);
  // One catch-up at a time: concurrent queries wait for the same one instead of loading a page twice.
  let loading: Promise<number> | undefined;
  const catchUp = (): Promise<number> => {
    loading ??= loadNewEvents(loader, store).finally(() => {
      loading = undefined;
    });
    return loading;
  };
  return {
    catchUp,
    exportsDir,
    async query(sql, limits = {}) {
      await catchUp();
      const connection = await instance.connect();
      try {
        return await runReadOnlyQuery(connection, sql, {
          maxRows: limits.maxRows ?? settings.defaultMaxRows,
          timeoutMs: limits.timeoutMs ?? settings.defaultTimeoutMs,
        });
      } finally {
        connection.closeSync();
      }
    },
    state: () => readLoadState(loader),
    connect: () => instance.connect(),
    close() {
      loader.closeSync();
      instance.closeSync();
    },
  };
}

/** Only `exportsDir` (read and written by exports) is reachable on disk, and settings are locked. */
async function lockDown(connection: DuckDBConnection, exportsDir: string | undefined): Promise<void> {
  if (exportsDir !== undefined) {
    const quoted = `'${exportsDir.replaceAll("'", "''")}/'`;
    await connection.run(`SET allowed_directories = [${quoted}]`);
  }
  await connection.run('SET enable_external_access = false');
  await connection.run('SET autoinstall_known_extensions = false');
  await connection.run('SET autoload_known_extensions = false');
  await connection.run('SET lock_configuration = true');
}
