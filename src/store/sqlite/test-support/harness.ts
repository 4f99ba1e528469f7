import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { EventStoreHarness } from '../../contract/event-store-contract.ts';
import type { EventStore } from '../../event-store.ts';
import { createSqliteEventStore } from '../sqlite-event-store.ts';

/**
 * A fresh SQLite store for one contract test: a file, not `:memory:`, so `connect` opens a second
 * connection on the same data as another process would.
 */
export async function sqliteHarness(): Promise<EventStoreHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'keel-store-contract-'));
  const path = join(dir, 'keel.db');
  const opened: EventStore[] = [];
  const open = (options: Parameters<typeof createSqliteEventStore>[0]): EventStore => {
    const store = createSqliteEventStore(options);
    opened.push(store);
    return store;
  };
  // normal: the contract is about behaviour, and fsync per commit would only slow it down.
  const store = open({ path, synchronous: 'normal' });
  const side = new BetterSqlite3(path);
  side.exec(
    'CREATE TABLE contract_side (stream_id TEXT NOT NULL, event_id TEXT NOT NULL, version INTEGER NOT NULL)',
  );
  return {
    store,
    connect: async (options = {}) => open({ path, synchronous: 'normal', ...options }),
    writer: async () => store,
    sideTable: 'contract_side',
    // SQLite commits in position order: what is committed is readable.
    settle: async () => {},
    sideRows: async () =>
      side.prepare('SELECT stream_id, event_id, version FROM contract_side ORDER BY event_id').all() as {
        stream_id: string;
        event_id: string;
        version: number;
      }[],
    cleanup: async () => {
      await Promise.allSettled(opened.map((s) => s.close()));
      side.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
