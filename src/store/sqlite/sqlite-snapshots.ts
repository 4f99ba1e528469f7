import type { Snapshot } from '../event-store.ts';
import type { StoreCore } from '../store-handle.ts';
import type { SqliteSnapshotRow, SqliteSnapshotStatements } from './sql/snapshots.ts';
import type { SqliteContext } from './sqlite-context.ts';

/** A snapshot from its row. */
export function toSnapshot(streamId: string, name: string, row: SqliteSnapshotRow): Snapshot {
  return {
    streamId,
    name,
    streamVersion: Number(row.stream_version),
    stateVersion: Number(row.state_version),
    state: JSON.parse(row.state) as unknown,
    tenantId: row.tenant_id,
    createdAt: new Date(Number(row.created_at)),
  };
}

/** Reading and writing snapshots, one statement each, in turn with the store's other operations. */
export function createSqliteSnapshots(
  ctx: SqliteContext,
  sql: SqliteSnapshotStatements,
): Pick<StoreCore, 'readSnapshot' | 'writeSnapshot'> {
  const { exclusive } = ctx.serial;
  return {
    readSnapshot: (streamId, name, tenantId) =>
      exclusive(() => {
        const row = sql.read(streamId, name, tenantId ?? null);
        return row === undefined ? undefined : toSnapshot(streamId, name, row);
      }),
    writeSnapshot: (snapshot, tenantId) =>
      exclusive(() =>
        sql.write(
          snapshot.streamId,
          snapshot.name,
          snapshot.streamVersion,
          snapshot.stateVersion,
          JSON.stringify(snapshot.state),
          tenantId ?? null,
          Date.now(),
        ),
      ),
  };
}
