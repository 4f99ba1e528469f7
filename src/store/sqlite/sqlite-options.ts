import type { Database } from 'better-sqlite3';
import { z } from 'zod';
import { parseOptions } from '../../errors/options.ts';
import type { Catalog } from '../../events/catalog.ts';
import type { AppendHook, OutboxSelector } from '../event-store.ts';

/** How to open the SQLite event store: on a file (or `:memory:`), or on a connection you already hold. */
export type SqliteEventStoreOptions = SqliteStoreCommonOptions &
  (
    | {
        /** SQLite file (created when missing; the embedded default is the transport's `.keel/keel.db`), or `:memory:`. */
        path: string;
        db?: undefined;
      }
    | {
        /**
         * An open connection, left open on close. Nothing else may write on it while the store appends:
         * an append with an async hook keeps its write transaction open across awaits.
         */
        db: Database;
        path?: undefined;
      }
  );

/** Options shared by both ways of opening the SQLite store. */
export interface SqliteStoreCommonOptions {
  /** Event definitions whose upcasters bring old data to the current version on read; none: read as stored. */
  catalog?: Catalog;
  /** Hooks run in every append's transaction (outbox, inline projections), before the append's own. */
  onAppend?: readonly AppendHook[];
  /**
   * Transactional outbox: `true` writes an outbox row for every appended event in the append's
   * transaction; a selector picks the events (and may name their topic). Default off.
   */
  outbox?: boolean | OutboxSelector;
  /** With `path`: `full` (default) fsyncs every commit and survives power loss; `normal` survives process crashes. */
  synchronous?: 'normal' | 'full';
  /** With `path`: milliseconds a writer waits for another process's write transaction; default 5 000. */
  busyTimeoutMs?: number;
}

const isFunction = (value: unknown): boolean => typeof value === 'function';

// The SQLite store's options with their defaults; `path` or `db` says where the data is.
const sqliteStoreOptionsSchema = z.object({
  path: z.string().optional(),
  db: z
    .custom<Database>((value) => typeof value === 'object' && value !== null, {
      error: 'expected a better-sqlite3 Database',
    })
    .optional(),
  catalog: z.custom<Catalog>().optional(),
  onAppend: z.array(z.custom<AppendHook>(isFunction, { error: 'expected a function' })).default([]),
  outbox: z
    .union([z.boolean(), z.custom<OutboxSelector>(isFunction, { error: 'expected a function' })])
    .default(false),
  synchronous: z.enum(['normal', 'full']).default('full'),
  busyTimeoutMs: z
    .number({ error: 'expected milliseconds ≥ 0' })
    .min(0, { error: 'expected milliseconds ≥ 0' })
    .default(5_000),
});

/** The SQLite store's options as parsed: every default applied. */
export interface ParsedSqliteStoreOptions {
  path?: string | undefined;
  db?: Database | undefined;
  catalog?: Catalog | undefined;
  onAppend: AppendHook[];
  outbox: boolean | OutboxSelector;
  synchronous: 'normal' | 'full';
  busyTimeoutMs: number;
}

/** Checks the options once, at the factory's entry; an OptionsError names each broken key. */
export function parseSqliteStoreOptions(options: SqliteEventStoreOptions): ParsedSqliteStoreOptions {
  return parseOptions(sqliteStoreOptionsSchema, options, 'sqlite event store');
}
