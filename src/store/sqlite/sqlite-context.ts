import type { Database, Statement } from 'better-sqlite3';
import { InvalidCheckpointError } from '../errors.ts';
import type { StoredEvent, StoreTransaction } from '../event-store.ts';
import { checkTableName } from '../store-handle.ts';
import type { EventDecoder } from '../stored-event-codec.ts';
import type { SqliteEventRow } from './sql/event-row.ts';
import { numbered } from './sql/numbered.ts';
import type { SqliteSerial } from './sqlite-serial.ts';

/** What every piece of the SQLite store shares: the connection, its serial runner, decoders, the wake-up. */
export interface SqliteContext {
  db: Database;
  serial: SqliteSerial;
  /** Decodes read events, upcasting with the catalog. */
  decode: EventDecoder;
  /** Decodes events as they were written (outbox, retried appends). */
  decodeAsWritten: EventDecoder;
  /** Wakes subscriptions after an append wrote events. */
  notify(): void;
}

const CHECKPOINT = /^(0|[1-9][0-9]{0,18})$/;
const NUMBERED_PARAMETER = /\?\d/;

/** Position encoded in a SQLite checkpoint: positions commit in order here, so the position is enough. */
export function decodeCheckpoint(checkpoint: string | undefined): bigint {
  if (checkpoint === undefined) return 0n;
  if (typeof checkpoint !== 'string' || !CHECKPOINT.test(checkpoint)) {
    throw new InvalidCheckpointError(String(checkpoint), 'sqlite');
  }
  return BigInt(checkpoint);
}

/** The event of a stored row. */
export function toStoredEvent(row: SqliteEventRow, decoder: EventDecoder): StoredEvent {
  return {
    event: decoder(row.event),
    streamId: row.stream_id,
    version: Number(row.version),
    position: row.position,
    tenantId: row.tenant_id,
    recordedAt: new Date(Number(row.recorded_at)),
    checkpoint: String(row.position),
  };
}

/** A hook's view of the connection's open transaction; statements are prepared once (up to 256 kept). */
export function createHookTransaction(db: Database): StoreTransaction {
  const statements = new Map<string, Statement>();
  return {
    dialect: 'sqlite',
    async query<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = db.prepare(sql);
        if (statements.size < 256) statements.set(sql, statement);
      }
      // `?1`, `?2`, ... are named parameters to better-sqlite3: bound from an object keyed by number.
      const args = NUMBERED_PARAMETER.test(sql) ? [numbered(...params)] : params;
      if (statement.reader) return statement.all(...args) as Row[];
      statement.run(...args);
      return [];
    },
    table: (name) => `"${checkTableName(name)}"`,
  };
}
