import type { Database } from 'better-sqlite3';

/** Runs operations of one store one at a time on its connection, and write transactions among them. */
export interface SqliteSerial {
  /** Runs `work` once every operation queued before it has finished. */
  exclusive<T>(work: () => T | Promise<T>): Promise<T>;
  /** Runs `work` in a write transaction (BEGIN IMMEDIATE), nothing else running meanwhile; rolls back on error. */
  inTransaction<T>(work: () => T | Promise<T>): Promise<T>;
}

/**
 * One operation at a time: an append whose hook awaits keeps its transaction open on this connection,
 * and nothing else may run on the connection until it commits (a read would see uncommitted rows).
 */
export function createSqliteSerial(db: Database): SqliteSerial {
  let tail: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => T | Promise<T>): Promise<T> => {
    const run = tail.then(work);
    tail = run.catch(() => {});
    return run;
  };
  const inTransaction = <T>(work: () => T | Promise<T>): Promise<T> =>
    exclusive(async () => {
      db.exec('BEGIN IMMEDIATE');
      try {
        const result = await work();
        db.exec('COMMIT');
        return result;
      } catch (error) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw error;
      }
    });
  return { exclusive, inTransaction };
}
