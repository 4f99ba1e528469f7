import type { StoreCore } from '../store-handle.ts';
import { asTenant, type PostgresContext, run, toStoredEvent } from './postgres-context.ts';
import { toSnapshot } from './postgres-snapshots.ts';
import type { EventRow } from './sql/event-columns.ts';
import { listStreamsStatement, type StreamListRow } from './sql/list-streams.ts';
import { readEventStatement } from './sql/read-event.ts';
import { listSnapshotsStatement, type SnapshotRow } from './sql/snapshots.ts';

/** Reads for operators: the streams, a stream's snapshots, one event by id. */
export function createPostgresInspection(
  ctx: PostgresContext,
): Pick<StoreCore, 'listStreams' | 'listSnapshots' | 'readEvent'> {
  const { sql, schema, ready } = ctx;
  const snapshotsText = listSnapshotsStatement(schema);
  const eventText = readEventStatement(schema);
  return {
    async listStreams(query) {
      await ready();
      const { text, params } = listStreamsStatement(schema, query);
      const rows = await asTenant(sql, query.tenantId, (runner) => run<StreamListRow>(runner, text, params));
      return rows.map(([streamId, tenantId, version, createdAtMs, updatedAtMs, deletedAtMs]) => ({
        streamId,
        tenantId,
        version: Number(version),
        createdAt: new Date(createdAtMs),
        updatedAt: new Date(updatedAtMs),
        deletedAt: deletedAtMs === null ? undefined : new Date(deletedAtMs),
      }));
    },
    async listSnapshots(streamId, tenantId) {
      await ready();
      const rows = await asTenant(sql, tenantId, (runner) =>
        run<[string, ...SnapshotRow]>(runner, snapshotsText, [streamId, tenantId ?? null]),
      );
      return rows.map(([name, ...row]) => toSnapshot(streamId, name, row));
    },
    async readEvent(eventId, tenantId) {
      await ready();
      const [row] = await asTenant(sql, tenantId, (runner) =>
        run<EventRow>(runner, eventText, [eventId, tenantId ?? null]),
      );
      return row === undefined ? undefined : toStoredEvent(row, ctx.decode);
    },
  };
}
