import type { Sql } from 'postgres';
import { z } from 'zod';
import { parseOptions } from '../../errors/options.ts';
import type { Catalog } from '../../events/catalog.ts';
import type { AppendHook, OutboxSelector } from '../event-store.ts';

/** How to open the PostgreSQL event store: on a connection string, or on a postgres.js instance you hold. */
export type PostgresEventStoreOptions = PostgresStoreCommonOptions &
  (
    | {
        /** Connection string, e.g. `postgres://user@host:5432/db` (`KEEL_POSTGRES_URL`). */
        url: string;
        sql?: undefined;
      }
    | {
        /** A postgres.js instance (its pool), left open on close. */
        sql: Sql;
        url?: undefined;
      }
  );

/** Options shared by both ways of opening the PostgreSQL store. */
export interface PostgresStoreCommonOptions {
  /** Schema holding the store's tables, created when missing; default `keel`. Lower-case letters, digits, `_`. */
  schema?: string;
  /** Event definitions whose upcasters bring old data to the current version on read; none: read as stored. */
  catalog?: Catalog;
  /** Hooks run in every append's transaction (outbox, inline projections), before the append's own. */
  onAppend?: readonly AppendHook[];
  /**
   * Transactional outbox: `true` writes an outbox row for every appended event in the append's own
   * statement; a selector picks the events (and may name their topic). Default off.
   */
  outbox?: boolean | OutboxSelector;
  /** With `url`: most connections the store opens; default 10. */
  maxConnections?: number;
  /**
   * Statements of small appends in flight at once; appends made meanwhile are queued and written
   * together by the next statement, one round trip and one commit for all (group commit). Appends with
   * hooks run in their own transactions, and appends of 256 events or more in statements of their own.
   * Default 2.
   */
  maxAppendsInFlight?: number;
}

/** Default schema of the PostgreSQL store. */
export const DEFAULT_POSTGRES_SCHEMA = 'keel';

/** Default number of statements of small appends in flight at once. */
export const DEFAULT_APPENDS_IN_FLIGHT = 2;

/** Default number of connections the store opens on a `url`. */
export const DEFAULT_POSTGRES_CONNECTIONS = 10;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const isFunction = (value: unknown): boolean => typeof value === 'function';
const positiveInt = z.int({ error: 'expected an integer ≥ 1' }).min(1, { error: 'expected an integer ≥ 1' });

/** The PostgreSQL store's options with their defaults; `url` or `sql` says where to connect. */
export const postgresStoreOptionsSchema = z.object({
  url: z.string().optional(),
  sql: z.custom<Sql>(isFunction, { error: 'expected a postgres.js instance' }).optional(),
  schema: z
    .string()
    .regex(SCHEMA_NAME, { error: "expected lower-case letters, digits and '_' (at most 63)" })
    .default(DEFAULT_POSTGRES_SCHEMA),
  catalog: z.custom<Catalog>().optional(),
  onAppend: z.array(z.custom<AppendHook>(isFunction, { error: 'expected a function' })).default([]),
  outbox: z
    .union([z.boolean(), z.custom<OutboxSelector>(isFunction, { error: 'expected a function' })])
    .default(false),
  maxConnections: positiveInt.default(DEFAULT_POSTGRES_CONNECTIONS),
  maxAppendsInFlight: positiveInt.default(DEFAULT_APPENDS_IN_FLIGHT),
});

/** The PostgreSQL store's options as parsed: every default applied. */
export type ParsedPostgresStoreOptions = z.output<typeof postgresStoreOptionsSchema>;

/** Checks the options once, at the factory's entry; an OptionsError names each broken key. */
export function parsePostgresStoreOptions(options: PostgresEventStoreOptions): ParsedPostgresStoreOptions {
  return parseOptions(postgresStoreOptionsSchema, options, 'postgres event store');
}
