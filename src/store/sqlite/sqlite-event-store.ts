import { openSqlite } from '../../sql/sqlite/open-sqlite.ts';
import type { EventStore } from '../event-store.ts';
import { createStoreHandle, type StoreCore } from '../store-handle.ts';
import { createEventDecoder } from '../stored-event-codec.ts';
import { joinFileWakers } from './file-wakers.ts';
import { migrateSqliteStore } from './schema.ts';
import { prepareSqliteAppend } from './sql/append.ts';
import { prepareSqliteArchive } from './sql/archive.ts';
import { prepareSqliteDeleteStream } from './sql/delete-stream.ts';
import { prepareSqliteListStreams } from './sql/list-streams.ts';
import { prepareSqliteOutbox } from './sql/outbox.ts';
import { prepareSqliteReadAll } from './sql/read-all.ts';
import { prepareSqliteReadEvent } from './sql/read-event.ts';
import { prepareSqliteReadStream } from './sql/read-stream.ts';
import { prepareSqliteSnapshots } from './sql/snapshots.ts';
import { createSqliteAppend } from './sqlite-append.ts';
import { createHookTransaction, type SqliteContext } from './sqlite-context.ts';
import { createSqliteInspection } from './sqlite-inspection.ts';
import { parseSqliteStoreOptions, type SqliteEventStoreOptions } from './sqlite-options.ts';
import { createSqliteOutbox } from './sqlite-outbox.ts';
import { createSqliteReads } from './sqlite-reads.ts';
import { createSqliteSerial } from './sqlite-serial.ts';
import { createSqliteSnapshots } from './sqlite-snapshots.ts';
import { createSqliteStreams } from './sqlite-streams.ts';

export type { SqliteEventStoreOptions, SqliteStoreCommonOptions } from './sqlite-options.ts';

/**
 * The SQLite event store (WAL mode): tables prefixed `store_` beside the embedded transport's in one
 * file. Operations on one store run one at a time; several processes may share the file (SQLite lets
 * one write at a time, so positions commit in order).
 */
export function createSqliteEventStore(options: SqliteEventStoreOptions): EventStore {
  const parsed = parseSqliteStoreOptions(options);
  const owned = parsed.db === undefined;
  const db =
    parsed.db ??
    openSqlite({
      path: parsed.path as string,
      synchronous: parsed.synchronous,
      busyTimeoutMs: parsed.busyTimeoutMs,
      prepare: migrateSqliteStore,
    });
  if (!owned) migrateSqliteStore(db);
  const wakers = joinFileWakers(db);
  const ctx: SqliteContext = {
    db,
    serial: createSqliteSerial(db),
    decode: createEventDecoder(parsed.catalog),
    decodeAsWritten: createEventDecoder(undefined),
    notify: wakers.notify,
  };
  const appendSql = prepareSqliteAppend(db);
  const snapshotSql = prepareSqliteSnapshots(db);
  const outboxSql = prepareSqliteOutbox(db);
  const transaction = createHookTransaction(db);
  const core: StoreCore = {
    name: 'sqlite',
    append: createSqliteAppend(ctx, appendSql, transaction),
    ...createSqliteReads(ctx, {
      stream: prepareSqliteReadStream(db),
      all: prepareSqliteReadAll(db),
      snapshots: snapshotSql,
    }),
    ...createSqliteSnapshots(ctx, snapshotSql),
    ...createSqliteInspection(ctx, {
      listStreams: prepareSqliteListStreams(db),
      snapshots: snapshotSql,
      readEvent: prepareSqliteReadEvent(db),
    }),
    ...createSqliteStreams(ctx, {
      append: appendSql,
      archive: prepareSqliteArchive(db),
      tombstone: prepareSqliteDeleteStream(db),
      outbox: outboxSql,
    }),
    transaction: (work) => ctx.serial.inTransaction(() => work(transaction)),
    outbox: createSqliteOutbox(ctx, outboxSql),
    waitForAppends: wakers.waitForAppends,
    close: () =>
      ctx.serial.exclusive(() => {
        wakers.leave();
        if (owned) db.close();
      }),
  };
  const selectOutbox =
    parsed.outbox === true ? () => true : parsed.outbox === false ? undefined : parsed.outbox;
  return createStoreHandle(core, { hooks: parsed.onAppend, outbox: selectOutbox });
}
