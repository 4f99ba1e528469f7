import type { Snapshot } from '../event-store.ts';
import type { StoreCore } from '../store-handle.ts';
import { asTenant, type PostgresContext, run } from './postgres-context.ts';
import { readSnapshotStatement, type SnapshotRow, writeSnapshotStatement } from './sql/snapshots.ts';

/** A snapshot from its row. */
export function toSnapshot(streamId: string, name: string, row: SnapshotRow): Snapshot {
  return {
    streamId,
    name,
    streamVersion: Number(row[0]),
    stateVersion: Number(row[1]),
    state: JSON.parse(row[2]) as unknown,
    tenantId: row[3],
    createdAt: new Date(row[4]),
  };
}

/** Reading and writing snapshots: one statement each. */
export function createPostgresSnapshots(
  ctx: PostgresContext,
): Pick<StoreCore, 'readSnapshot' | 'writeSnapshot'> {
  const { sql, schema, ready } = ctx;
  const readText = readSnapshotStatement(schema);
  const writeText = writeSnapshotStatement(schema);
  return {
    async readSnapshot(streamId, name, tenantId) {
      await ready();
      const [row] = await asTenant(sql, tenantId, (runner) =>
        run<SnapshotRow>(runner, readText, [streamId, name, tenantId ?? null]),
      );
      return row === undefined ? undefined : toSnapshot(streamId, name, row);
    },
    async writeSnapshot(snapshot, tenantId) {
      await ready();
      const rows = await run<[number]>(sql, writeText, [
        snapshot.streamId,
        snapshot.name,
        String(snapshot.streamVersion),
        snapshot.stateVersion,
        JSON.stringify(snapshot.state),
        tenantId ?? null,
      ]);
      return rows.length > 0;
    },
  };
}
