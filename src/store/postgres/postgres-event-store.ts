import postgres from 'postgres';
import type { EventStore } from '../event-store.ts';
import { createStoreHandle, type StoreCore } from '../store-handle.ts';
import { createEventDecoder } from '../stored-event-codec.ts';
import { createLocalWakers } from './local-wakers.ts';
import { createPostgresAppend } from './postgres-append.ts';
import { type PostgresContext, storeTransactionOf } from './postgres-context.ts';
import { createPostgresInspection } from './postgres-inspection.ts';
import { type PostgresEventStoreOptions, parsePostgresStoreOptions } from './postgres-options.ts';
import { createPostgresOutbox } from './postgres-outbox.ts';
import { createPostgresReads } from './postgres-reads.ts';
import { createPostgresSnapshots } from './postgres-snapshots.ts';
import { createPostgresStreams } from './postgres-streams.ts';
import { migratePostgresStore, quoteIdentifier } from './schema.ts';

export {
  DEFAULT_APPENDS_IN_FLIGHT,
  DEFAULT_POSTGRES_SCHEMA,
  type PostgresEventStoreOptions,
  type PostgresStoreCommonOptions,
} from './postgres-options.ts';

/** Migrates on first use; a failed migration (server down, ...) is tried again by the next call. */
function migrateOnce(sql: postgres.Sql, schemaName: string): () => Promise<void> {
  let migrated: Promise<void> | undefined;
  return () => {
    migrated ??= migratePostgresStore(sql, schemaName).catch((error) => {
      migrated = undefined;
      throw error;
    });
    return migrated;
  };
}

/**
 * The PostgreSQL event store (PostgreSQL ≥ 14; `xid8` and `pg_current_xact_id()` are from 13). The schema
 * is migrated on first use. Appends without hooks are one function call, batched with concurrent ones
 * (group commit); reads never pass an event that commits later (see `sql/read-all.ts`).
 */
export function createPostgresEventStore(options: PostgresEventStoreOptions): EventStore {
  const parsed = parsePostgresStoreOptions(options);
  const owned = parsed.sql === undefined;
  const sql =
    parsed.sql ??
    postgres(parsed.url as string, {
      max: parsed.maxConnections,
      // CREATE ... IF NOT EXISTS notices are expected; the driver would print them on stdout.
      onnotice: () => {},
    });
  const wakers = createLocalWakers();
  const ctx: PostgresContext = {
    sql,
    schema: quoteIdentifier(parsed.schema),
    schemaName: parsed.schema,
    ready: migrateOnce(sql, parsed.schema),
    decode: createEventDecoder(parsed.catalog),
    decodeAsWritten: createEventDecoder(undefined),
    wake: wakers.wake,
  };
  const outbox = createPostgresOutbox(ctx);
  const core: StoreCore = {
    name: 'postgres',
    append: createPostgresAppend(ctx, parsed.maxAppendsInFlight),
    ...createPostgresReads(ctx),
    ...createPostgresStreams(ctx),
    ...createPostgresSnapshots(ctx),
    ...createPostgresInspection(ctx),
    async transaction(work) {
      await ctx.ready();
      return sql.begin((tx) => work(storeTransactionOf(tx, ctx.schema))) as Promise<
        Awaited<ReturnType<typeof work>>
      >;
    },
    outbox,
    waitForAppends: wakers.waitForAppends,
    async close() {
      await outbox.releaseLeases();
      if (owned) await sql.end({ timeout: 5 });
    },
  };
  const selectOutbox =
    parsed.outbox === true ? () => true : parsed.outbox === false ? undefined : parsed.outbox;
  return createStoreHandle(core, { hooks: parsed.onAppend, outbox: selectOutbox });
}
