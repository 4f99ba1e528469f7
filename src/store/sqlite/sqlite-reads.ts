import type { Snapshot, StreamPage } from '../event-store.ts';
import type { AllQuery, StoreCore, StreamQuery } from '../store-handle.ts';
import type { SqliteReadAll } from './sql/read-all.ts';
import type { SqliteReadStreamStatements } from './sql/read-stream.ts';
import type { SqliteSnapshotStatements } from './sql/snapshots.ts';
import { deletedError } from './sqlite-append.ts';
import { decodeCheckpoint, type SqliteContext, toStoredEvent } from './sqlite-context.ts';
import { toSnapshot } from './sqlite-snapshots.ts';

// Positions are below 2^63: an upper bound that every position satisfies.
const NO_END = 9_223_372_036_854_775_807n;

const endPosition = (endAt: string | undefined): bigint =>
  endAt === undefined ? NO_END : decodeCheckpoint(endAt);

/** The statements the reads use. */
export interface SqliteReadStatements {
  stream: SqliteReadStreamStatements;
  all: SqliteReadAll;
  snapshots: SqliteSnapshotStatements;
}

/** One stream's page (and, forwards, its snapshot), read in one transaction so they agree. */
function createStreamReader(ctx: SqliteContext, sql: SqliteReadStatements) {
  return ctx.db.transaction((streamId: string, query: StreamQuery): StreamPage => {
    const stream = sql.stream.stream(streamId);
    if (
      stream === undefined ||
      stream.version === 0n ||
      (query.tenantId !== undefined && stream.tenant_id !== query.tenantId)
    ) {
      return { streamId, streamVersion: 0, events: [], next: undefined };
    }
    if (stream.deleted_at !== null) throw deletedError(streamId, stream);
    const streamVersion = Number(stream.version);
    const floor = Number(stream.deleted_version) + 1;
    const limit = query.maxCount ?? -1;
    if (query.direction === 'forwards') {
      let snapshot: Snapshot | undefined;
      if (query.snapshot !== undefined) {
        const row = sql.snapshots.read(streamId, query.snapshot.name, null);
        if (row !== undefined && Number(row.state_version) === query.snapshot.stateVersion) {
          snapshot = toSnapshot(streamId, query.snapshot.name, row);
        }
      }
      const from = Math.max(floor, query.fromVersion ?? (snapshot ? snapshot.streamVersion + 1 : 1));
      const rows = limit === 0 ? [] : sql.stream.forwards(streamId, from, limit);
      const last = rows.length > 0 ? Number(rows[rows.length - 1]!.version) : from - 1;
      const next = last < streamVersion && (limit === 0 || rows.length === limit) ? last + 1 : undefined;
      const events = rows.map((r) => toStoredEvent(r, ctx.decode));
      return snapshot === undefined
        ? { streamId, streamVersion, events, next }
        : { streamId, streamVersion, events, next, snapshot };
    }
    const from = Math.min(streamVersion, query.fromVersion ?? streamVersion);
    const rows = limit === 0 || from < floor ? [] : sql.stream.backwards(streamId, from, floor - 1, limit);
    const last = rows.length > 0 ? Number(rows[rows.length - 1]!.version) : from + 1;
    const next = last > floor && (limit === 0 || rows.length === limit) ? last - 1 : undefined;
    return { streamId, streamVersion, events: rows.map((r) => toStoredEvent(r, ctx.decode)), next };
  });
}

/** The store's reads: one stream, everything in position order (positions commit in order here), head, counts. */
export function createSqliteReads(
  ctx: SqliteContext,
  sql: SqliteReadStatements,
): Pick<StoreCore, 'readStream' | 'readAll' | 'head' | 'count'> {
  const { exclusive } = ctx.serial;
  const readStreamNow = createStreamReader(ctx, sql);
  return {
    readStream: (streamId, query) => exclusive(() => readStreamNow(streamId, query)),
    readAll: (query: AllQuery) =>
      exclusive(() => {
        const afterPosition = decodeCheckpoint(query.after);
        const end = endPosition(query.endAt);
        if (query.maxCount === 0) return { events: [], next: query.after, hasMore: false };
        // The head first: the page then cannot see past it, so a page that is not full has seen all of it.
        const head = sql.all.head();
        const endAtPosition = head < end ? head : end;
        const rows = sql.all.page({ ...query, afterPosition, endAtPosition, maxCount: query.maxCount });
        const events = rows.map((r) => toStoredEvent(r, ctx.decode));
        const hasMore = rows.length === query.maxCount;
        if (hasMore) return { events, next: events[events.length - 1]!.checkpoint, hasMore };
        return { events, next: endAtPosition > afterPosition ? String(endAtPosition) : query.after, hasMore };
      }),
    head: () =>
      exclusive(() => {
        const head = sql.all.head();
        return head === 0n ? undefined : String(head);
      }),
    count: (query) =>
      exclusive(() =>
        sql.all.count({
          ...query,
          afterPosition: decodeCheckpoint(query.after),
          endAtPosition: endPosition(query.endAt),
        }),
      ),
  };
}
