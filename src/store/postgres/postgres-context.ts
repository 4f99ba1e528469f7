import type { ReservedSql, Sql, TransactionSql } from 'postgres';
import type { StoredEvent, StoreTransaction } from '../event-store.ts';
import { checkTableName } from '../store-handle.ts';
import type { EventDecoder } from '../stored-event-codec.ts';
import { quoteIdentifier } from './schema.ts';

/** Where a statement runs: the pool, a transaction, or a reserved connection. */
export type Runner = Sql | TransactionSql | ReservedSql;

/** Runs a prepared statement and returns its rows as value arrays. */
// The driver's parameter type is a union of what it can serialize; the statements here cast each one.
export const run = <Row extends readonly unknown[]>(
  runner: Runner,
  text: string,
  params: readonly unknown[],
) => runner.unsafe(text, params as never[], { prepare: true }).values() as unknown as Promise<Row[]>;

/** Sets the tenant that row-level security lets the current transaction see (schema version 4). */
const SET_TENANT = "SELECT set_config('keel.tenant', $1, true)";

/**
 * Runs `work` so that PostgreSQL itself shows it only `tenant`'s rows: in a transaction that first sets
 * `keel.tenant` (row-level security, schema version 4), whatever the statements' own tenant filters say.
 * Without a tenant, on the pool as it is (every row).
 */
export function asTenant<T>(
  sql: Sql,
  tenant: string | undefined,
  work: (runner: Runner) => Promise<T>,
): Promise<T> {
  if (tenant === undefined) return work(sql);
  return sql.begin(async (tx) => {
    await tx.unsafe(SET_TENANT, [tenant], { prepare: true });
    return work(tx);
  }) as Promise<T>;
}

/** What every piece of the PostgreSQL store shares: the pool, the schema, the decoders and the wake-up. */
export interface PostgresContext {
  sql: Sql;
  /** The schema as written in SQL (quoted). */
  schema: string;
  /** The schema's plain name. */
  schemaName: string;
  /** Resolves once the schema is migrated (the first call migrates). */
  ready(): Promise<void>;
  /** Decodes read events, upcasting with the catalog. */
  decode: EventDecoder;
  /** Decodes events as they were written (outbox, retried appends). */
  decodeAsWritten: EventDecoder;
  /** Wakes this store's subscriptions after an append wrote events. */
  wake(): void;
}

/** The event of a row whose event columns (`EVENT_COLUMNS`) start at `at`. */
export function toStoredEvent(row: readonly unknown[], decoder: EventDecoder, at = 0): StoredEvent {
  return {
    event: decoder(row[at + 6] as string),
    streamId: row[at + 2] as string,
    version: Number(row[at + 3]),
    position: BigInt(row[at] as string),
    tenantId: row[at + 4] as string,
    recordedAt: new Date(row[at + 5] as number),
    checkpoint: `${row[at + 1]}:${row[at]}`,
  };
}

/** A hook's view of a PostgreSQL transaction; side tables live in the store's schema. */
export function storeTransactionOf(tx: TransactionSql, schema: string): StoreTransaction {
  return {
    dialect: 'postgres',
    query: async <Row>(text: string, values: readonly unknown[] = []) =>
      [...(await tx.unsafe(text, values as never[]))] as Row[],
    table: (name) => `${schema}.${quoteIdentifier(checkTableName(name))}`,
  };
}
