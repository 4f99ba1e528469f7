import type { StoreCore } from '../store-handle.ts';
import type { SqliteListStreams } from './sql/list-streams.ts';
import type { SqliteReadEvent } from './sql/read-event.ts';
import type { SqliteSnapshotStatements } from './sql/snapshots.ts';
import { type SqliteContext, toStoredEvent } from './sqlite-context.ts';
import { toSnapshot } from './sqlite-snapshots.ts';

/** The statements the inspection reads use. */
export interface SqliteInspectionStatements {
  listStreams: SqliteListStreams;
  snapshots: SqliteSnapshotStatements;
  readEvent: SqliteReadEvent;
}

/** Reads for operators: the streams, a stream's snapshots, one event by id. */
export function createSqliteInspection(
  ctx: SqliteContext,
  sql: SqliteInspectionStatements,
): Pick<StoreCore, 'listStreams' | 'listSnapshots' | 'readEvent'> {
  const { exclusive } = ctx.serial;
  return {
    listStreams: (query) =>
      exclusive(() =>
        sql.listStreams(query).map((row) => ({
          streamId: row.stream_id,
          tenantId: row.tenant_id,
          version: Number(row.version),
          createdAt: new Date(Number(row.created_at)),
          updatedAt: new Date(Number(row.updated_at)),
          deletedAt: row.deleted_at === null ? undefined : new Date(Number(row.deleted_at)),
        })),
      ),
    listSnapshots: (streamId, tenantId) =>
      exclusive(() =>
        sql.snapshots.list(streamId, tenantId ?? null).map((row) => toSnapshot(streamId, row.name, row)),
      ),
    readEvent: (eventId, tenantId) =>
      exclusive(() => {
        const row = sql.readEvent(eventId, tenantId ?? null);
        return row === undefined ? undefined : toStoredEvent(row, ctx.decode);
      }),
  };
}
