import { type DuckDBConnection, DuckDBTimestampTZValue } from '@duckdb/node-api';
import type { EventStore, StoredEvent } from '../../store/event-store.ts';

/** Events read from the store per page while catching up (and so per DuckDB transaction). */
const PAGE = 1000;

/** Where the loader is up to in the store's global order, and how many events it has loaded. */
export interface LoadState {
  checkpoint: string | undefined;
  loaded: number;
}

/** The loader's state as the history database holds it. */
export async function readLoadState(connection: DuckDBConnection): Promise<LoadState> {
  const reader = await connection.runAndReadAll(
    'SELECT checkpoint, loaded FROM keel_history_state WHERE id = 1',
  );
  const [checkpoint, loaded] = reader.getRows()[0] ?? [null, 0n];
  return { checkpoint: checkpoint === null ? undefined : String(checkpoint), loaded: Number(loaded) };
}

/**
 * Copies every event stored after the loader's checkpoint into the `events` table, page by page; each page
 * and the checkpoint after it commit in one DuckDB transaction, so a crash never loads an event twice.
 * Resolves with the events it added.
 */
export async function loadNewEvents(connection: DuckDBConnection, store: EventStore): Promise<number> {
  let { checkpoint } = await readLoadState(connection);
  let added = 0;
  for (;;) {
    const page = await store.readAll({
      ...(checkpoint === undefined ? {} : { after: checkpoint }),
      maxCount: PAGE,
    });
    if (page.events.length === 0 && page.next === checkpoint) return added;
    await appendPage(connection, page.events, page.next);
    added += page.events.length;
    checkpoint = page.next;
    if (!page.hasMore) return added;
  }
}

async function appendPage(
  connection: DuckDBConnection,
  events: readonly StoredEvent[],
  next: string | undefined,
): Promise<void> {
  await connection.run('BEGIN TRANSACTION');
  try {
    if (events.length > 0) {
      const appender = await connection.createAppender('events');
      for (const stored of events) appendEvent(appender, stored);
      appender.flushSync();
      appender.closeSync();
    }
    await connection.run('UPDATE keel_history_state SET checkpoint = $1, loaded = loaded + $2 WHERE id = 1', [
      next ?? null,
      events.length,
    ]);
    await connection.run('COMMIT');
  } catch (error) {
    await connection.run('ROLLBACK');
    throw error;
  }
}

type Appender = Awaited<ReturnType<DuckDBConnection['createAppender']>>;

function appendEvent(appender: Appender, stored: StoredEvent): void {
  const { event } = stored;
  appender.appendBigInt(stored.position);
  appender.appendVarchar(stored.streamId);
  appender.appendInteger(stored.version);
  appender.appendVarchar(stored.tenantId);
  appender.appendTimestampTZ(timestampOf(stored.recordedAt.getTime()));
  appender.appendVarchar(event.id);
  appender.appendVarchar(event.type);
  appender.appendVarchar(event.source);
  appendText(appender, event.subject);
  const time = event.time === undefined ? Number.NaN : Date.parse(event.time);
  if (Number.isNaN(time)) appender.appendNull();
  else appender.appendTimestampTZ(timestampOf(time));
  appendText(appender, event.correlationid);
  appendText(appender, event.causationid);
  appendText(appender, dataJson(event.data));
  appender.endRow();
}

function appendText(appender: Appender, value: unknown): void {
  if (value === undefined || value === null) appender.appendNull();
  else appender.appendVarchar(String(value));
}

function timestampOf(epochMs: number): DuckDBTimestampTZValue {
  return new DuckDBTimestampTZValue(BigInt(epochMs) * 1000n);
}

/** The data as JSON text: binary data as `{"data_base64": ...}`, none as null. */
export function dataJson(data: unknown): string | undefined {
  if (data === undefined) return undefined;
  if (data instanceof Uint8Array)
    return JSON.stringify({ data_base64: Buffer.from(data).toString('base64') });
  return JSON.stringify(data);
}
