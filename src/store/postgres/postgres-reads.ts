import { StreamDeletedError } from '../errors.ts';
import type { ReadAllPage, Snapshot, StoredEvent, StreamPage } from '../event-store.ts';
import type { AllQuery, StoreCore, StreamQuery } from '../store-handle.ts';
import { compareCursors, decodeCheckpoint, encodeCursor, START } from './commit-cursor.ts';
import { asTenant, type PostgresContext, run, toStoredEvent } from './postgres-context.ts';
import { toSnapshot } from './postgres-snapshots.ts';
import type { EventRow } from './sql/event-columns.ts';
import { countStatement, headStatement, READ_ALL_HEAD_COLUMNS, readAllStatement } from './sql/read-all.ts';
import { readStreamStatement, STREAM_HEAD_COLUMNS, type StreamHeadRow } from './sql/read-stream.ts';

type StreamRow = [...StreamHeadRow, ...(EventRow | [null, null, null, null, null, null, null])];

/** One stream's page from the rows of `readStreamStatement` (at least one). */
function streamPage(
  ctx: PostgresContext,
  streamId: string,
  query: StreamQuery,
  rows: StreamRow[],
): StreamPage {
  const [version, deletedAtMs, deletedVersion, snapshotVersion, snapshotState, snapshotAtMs, tenantId] =
    rows[0]!;
  const streamVersion = Number(version);
  if (deletedAtMs !== null) throw new StreamDeletedError(streamId, streamVersion, new Date(deletedAtMs));
  const events: StoredEvent[] = [];
  for (const row of rows)
    if (row[STREAM_HEAD_COLUMNS] !== null) events.push(toStoredEvent(row, ctx.decode, STREAM_HEAD_COLUMNS));
  const floor = Number(deletedVersion) + 1;
  const full = query.maxCount !== undefined && events.length === query.maxCount;
  let next: number | undefined;
  const snapshot: Snapshot | undefined =
    snapshotVersion === null
      ? undefined
      : toSnapshot(streamId, query.snapshot!.name, [
          snapshotVersion,
          query.snapshot!.stateVersion,
          snapshotState!,
          tenantId,
          snapshotAtMs!,
        ]);
  if (query.direction === 'forwards') {
    const start = Math.max(floor, query.fromVersion ?? (snapshot ? snapshot.streamVersion + 1 : 1));
    const last = events.at(-1)?.version ?? start - 1;
    next = full && last < streamVersion ? last + 1 : undefined;
  } else {
    const last = events.at(-1)?.version ?? Math.min(streamVersion, query.fromVersion ?? streamVersion) + 1;
    next = full && last > floor ? last - 1 : undefined;
  }
  return snapshot === undefined
    ? { streamId, streamVersion, events, next }
    : { streamId, streamVersion, events, next, snapshot };
}

/** A read-all page: gap-free, resuming at the head when the page is not full (see `sql/read-all.ts`). */
async function readAllPage(ctx: PostgresContext, query: AllQuery): Promise<ReadAllPage> {
  const after = decodeCheckpoint(query.after);
  const endAt = query.endAt === undefined ? undefined : decodeCheckpoint(query.endAt);
  if (query.maxCount === 0) return { events: [], next: query.after, hasMore: false };
  const { text, params } = readAllStatement(ctx.schema, query, { after, endAt }, query.maxCount);
  const rows = await asTenant(ctx.sql, query.tenantId, (runner) =>
    run<[string | null, string | null, ...EventRow]>(runner, text, params),
  );
  const events: StoredEvent[] = [];
  for (const row of rows)
    if (row[READ_ALL_HEAD_COLUMNS] !== null)
      events.push(toStoredEvent(row, ctx.decode, READ_ALL_HEAD_COLUMNS));
  const hasMore = events.length === query.maxCount;
  if (hasMore) return { events, next: events[events.length - 1]!.checkpoint, hasMore };
  // Not full: everything up to the head (or endAt) was looked at; resume there, never behind `after`.
  const [headTransaction, headPosition] = rows[0] ?? [null, null];
  let reached =
    headTransaction === null ? START : { transactionId: headTransaction, position: headPosition! };
  if (endAt !== undefined && compareCursors(endAt, reached) < 0) reached = endAt;
  const next =
    compareCursors(reached, after) > 0
      ? encodeCursor(reached)
      : events.length > 0
        ? events[events.length - 1]!.checkpoint
        : query.after;
  return { events, next, hasMore };
}

/** The store's reads: one stream, everything in commit-safe order, the head, and counts. */
export function createPostgresReads(
  ctx: PostgresContext,
): Pick<StoreCore, 'readStream' | 'readAll' | 'head' | 'count'> {
  const { sql, schema, ready } = ctx;
  const streamText = {
    forwards: readStreamStatement(schema, 'forwards'),
    backwards: readStreamStatement(schema, 'backwards'),
  };
  const headText = headStatement(schema);
  return {
    async readStream(streamId, query) {
      await ready();
      const rows = await asTenant(sql, query.tenantId, (runner) =>
        run<StreamRow>(runner, streamText[query.direction], [
          streamId,
          query.fromVersion === undefined ? null : String(query.fromVersion),
          query.maxCount === undefined ? null : String(query.maxCount),
          query.tenantId ?? null,
          query.snapshot?.name ?? null,
          query.snapshot?.stateVersion ?? null,
        ]),
      );
      if (rows.length === 0) return { streamId, streamVersion: 0, events: [], next: undefined };
      return streamPage(ctx, streamId, query, rows);
    },
    async readAll(query) {
      await ready();
      return readAllPage(ctx, query);
    },
    async head() {
      await ready();
      const [row] = await run<[string, string]>(sql, headText, []);
      return row === undefined ? undefined : `${row[0]}:${row[1]}`;
    },
    async count(query) {
      await ready();
      const after = decodeCheckpoint(query.after);
      const endAt = query.endAt === undefined ? undefined : decodeCheckpoint(query.endAt);
      const { text, params } = countStatement(schema, query, { after, endAt });
      const [row] = await asTenant(sql, query.tenantId, (runner) => run<[string]>(runner, text, params));
      return Number(row![0]);
    },
  };
}
