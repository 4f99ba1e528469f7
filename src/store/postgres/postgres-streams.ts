import { ArchiveMismatchError, WrongExpectedVersionError } from '../errors.ts';
import type { ArchiveReport } from '../event-store.ts';
import { satisfiesExpectedVersion } from '../expected-version.ts';
import type { ArchiveQuery, StoreCore } from '../store-handle.ts';
import { emptyArchiveReport } from '../store-queries.ts';
import { archivedLine } from '../stored-event-codec.ts';
import { type PostgresContext, run } from './postgres-context.ts';
import {
  type ArchiveRow,
  archiveBatchStatement,
  purgeSentOutboxStatement,
  removeArchivedStatement,
} from './sql/archive.ts';
import { deleteStreamStatement, lockStreamStatement } from './sql/delete-stream.ts';

/** Moves one batch of old events to the archive writer and removes them, in one transaction; true when it was the last. */
async function archiveBatch(
  ctx: PostgresContext,
  query: ArchiveQuery,
  report: ArchiveReport,
): Promise<boolean> {
  const { sql, schema } = ctx;
  return (await sql.begin(async (tx) => {
    const rows = await run<ArchiveRow>(tx, archiveBatchStatement(schema), [
      query.before.toISOString(),
      query.batchSize,
      query.tenantId ?? null,
      query.streamPrefix ?? null,
    ]);
    if (rows.length === 0) return true;
    await query.write(rows.map((r) => archivedLine(r[0], r[1], Number(r[2]), r[3], r[4], r[5])).join(''));
    const [removed] = await run<[number]>(tx, removeArchivedStatement(schema), [rows.map((r) => r[0])]);
    if (removed![0] !== rows.length) throw new ArchiveMismatchError(rows.length, removed![0]);
    report.exported += rows.length;
    report.removed += removed![0];
    report.batches += 1;
    report.firstPosition ??= BigInt(rows[0]![0]);
    report.lastPosition = BigInt(rows[rows.length - 1]![0]);
    return rows.length < query.batchSize;
  })) as boolean;
}

/** Stream deletion (a tombstone) and archiving of old events. */
export function createPostgresStreams(ctx: PostgresContext): Pick<StoreCore, 'deleteStream' | 'archive'> {
  const { sql, schema, ready } = ctx;
  return {
    async deleteStream(streamId, expected, tenantId) {
      await ready();
      return sql.begin(async (tx) => {
        const [row] = await run<[string, string, number | null]>(tx, lockStreamStatement(schema), [streamId]);
        const visible = row !== undefined && (tenantId === undefined || row[0] === tenantId);
        const version = visible ? Number(row[1]) : 0;
        if (visible && row[2] !== null) {
          return { streamId, version, deletedAt: new Date(row[2]) };
        }
        if (!visible || !satisfiesExpectedVersion(expected, version)) {
          throw new WrongExpectedVersionError(streamId, expected, version);
        }
        const [deleted] = await run<[string, number]>(tx, deleteStreamStatement(schema), [streamId]);
        return { streamId, version: Number(deleted![0]), deletedAt: new Date(deleted![1]) };
      }) as Promise<{ streamId: string; version: number; deletedAt: Date }>;
    },
    async archive(query) {
      await ready();
      const report = emptyArchiveReport(query.before);
      while (!(await archiveBatch(ctx, query, report))) {}
      if (query.tenantId === undefined && query.streamPrefix === undefined) {
        await run(sql, purgeSentOutboxStatement(schema), [query.before.toISOString()]);
      }
      return report;
    },
  };
}
