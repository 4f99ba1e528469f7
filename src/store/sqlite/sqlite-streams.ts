import { ArchiveMismatchError, WrongExpectedVersionError } from '../errors.ts';
import type { ArchiveReport } from '../event-store.ts';
import { satisfiesExpectedVersion } from '../expected-version.ts';
import type { ArchiveQuery, StoreCore } from '../store-handle.ts';
import { emptyArchiveReport } from '../store-queries.ts';
import { archivedLine } from '../stored-event-codec.ts';
import type { SqliteAppendStatements } from './sql/append.ts';
import type { SqliteArchiveStatements } from './sql/archive.ts';
import type { SqliteDeleteStream } from './sql/delete-stream.ts';
import type { SqliteOutboxStatements } from './sql/outbox.ts';
import type { SqliteContext } from './sqlite-context.ts';

/** The statements stream deletion and archiving use. */
export interface SqliteStreamStatements {
  append: SqliteAppendStatements;
  archive: SqliteArchiveStatements;
  tombstone: SqliteDeleteStream;
  outbox: SqliteOutboxStatements;
}

/** Moves one batch of old events to the archive writer and removes them, in one transaction; true when it was the last. */
function archiveBatch(
  ctx: SqliteContext,
  sql: SqliteArchiveStatements,
  query: ArchiveQuery,
  report: ArchiveReport,
): Promise<boolean> {
  return ctx.serial.inTransaction(async () => {
    const rows = sql.batch(
      query.before.getTime(),
      query.batchSize,
      query.tenantId ?? null,
      query.streamPrefix ?? null,
    );
    if (rows.length === 0) return true;
    await query.write(
      rows
        .map((r) =>
          archivedLine(
            String(r.position),
            r.stream_id,
            Number(r.version),
            r.tenant_id,
            Number(r.recorded_at),
            r.event,
          ),
        )
        .join(''),
    );
    const removed = sql.remove(rows.map((r) => r.position));
    if (removed !== rows.length) throw new ArchiveMismatchError(rows.length, removed);
    report.exported += rows.length;
    report.removed += removed;
    report.batches += 1;
    report.firstPosition ??= rows[0]!.position;
    report.lastPosition = rows[rows.length - 1]!.position;
    return rows.length < query.batchSize;
  });
}

/** Stream deletion (a tombstone) and archiving of old events. */
export function createSqliteStreams(
  ctx: SqliteContext,
  sql: SqliteStreamStatements,
): Pick<StoreCore, 'deleteStream' | 'archive'> {
  return {
    deleteStream: (streamId, expected, tenantId) =>
      ctx.serial.inTransaction(() => {
        const stream = sql.append.stream(streamId);
        const visible =
          stream !== undefined &&
          stream.version > 0n &&
          (tenantId === undefined || stream.tenant_id === tenantId);
        const version = visible ? Number(stream.version) : 0;
        if (visible && stream.deleted_at !== null) {
          return { streamId, version, deletedAt: new Date(Number(stream.deleted_at)) };
        }
        if (!visible || !satisfiesExpectedVersion(expected, version)) {
          throw new WrongExpectedVersionError(streamId, expected, version);
        }
        const now = Date.now();
        sql.tombstone(streamId, now);
        return { streamId, version, deletedAt: new Date(now) };
      }),
    archive: async (query) => {
      const report = emptyArchiveReport(query.before);
      while (!(await archiveBatch(ctx, sql.archive, query, report))) {}
      if (query.tenantId === undefined && query.streamPrefix === undefined) {
        await ctx.serial.exclusive(() => sql.outbox.purgeSent(query.before.getTime()));
      }
      return report;
    },
  };
}
