import type { Database } from 'better-sqlite3';
import { numbered } from './numbered.ts';

/** Tombstones a stream (inside the caller's write transaction) and removes its snapshots. */
export type SqliteDeleteStream = (streamId: string, now: number) => void;

/** Prepares the tombstone statements on one connection. */
export function prepareSqliteDeleteStream(db: Database): SqliteDeleteStream {
  const tombstone = db.prepare(
    'UPDATE store_streams SET deleted_at = ?2, deleted_version = version, updated_at = ?2 WHERE stream_id = ?1',
  );
  const forget = db.prepare('DELETE FROM store_snapshots WHERE stream_id = ?');
  return (streamId, now) => {
    tombstone.run(numbered(streamId, now));
    forget.run(streamId);
  };
}
