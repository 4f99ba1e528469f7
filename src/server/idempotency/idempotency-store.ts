import type { Database } from 'better-sqlite3';
import { runSqliteMigrations } from '../../sql/sqlite/migration-runner.ts';
import { openSqlite } from '../../sql/sqlite/open-sqlite.ts';
import { idempotencyMigrations } from './idempotency-schema.ts';

/** An event as idempotency knows it: who sent it, its id, and the hash of its content. */
export interface EventKey {
  source: string;
  id: string;
  hash: string;
}

/** Where an event was stored, as recorded for replays (offset as digits). */
export interface RecordedReceipt {
  id: string;
  type: string;
  topic: string;
  partition: number;
  offset: string;
}

/**
 * What a reservation found. `ok`: each key is either replayed (its recorded receipt) or now reserved
 * for the caller (undefined). `conflict`: these keys were published with other content; nothing was
 * reserved. `busy`: another request holds one of the keys; nothing was reserved, try again shortly.
 */
export type Reservation =
  | { kind: 'ok'; receipts: (RecordedReceipt | undefined)[] }
  | { kind: 'conflict'; keys: EventKey[] }
  | { kind: 'busy' };

/** The (source, id) → content hash and receipt table of the idempotent publish. */
export interface IdempotencyStore {
  /** How long a published (source, id) is remembered, in milliseconds. */
  readonly retentionMs: number;
  /** Looks up distinct keys and reserves the unknown ones for `token`, all in one write transaction. */
  reserve(keys: readonly EventKey[], token: string): Reservation;
  /**
   * Records the receipts of the keys `token` reserved and appended (kept for the retention); resolves once
   * durable. Records of concurrent requests are written in one transaction (one sync for all).
   */
  complete(token: string, done: readonly { key: EventKey; receipt: RecordedReceipt }[]): Promise<void>;
  /** Drops the reservations of `token` (its append failed: nothing was written). */
  release(token: string): void;
  /** Deletes expired entries; returns how many. */
  prune(): number;
  close(): void;
}

/** How the store is opened. */
export interface IdempotencyStoreOptions {
  /** SQLite file (the node's `keel.db`), or `:memory:`. */
  path: string;
  /** How receipts are made durable; reservations never need to survive a power loss, so they are not synced. */
  synchronous: 'normal' | 'full';
  retentionMs: number;
  /**
   * Milliseconds a reservation holds a key while its append runs; past it (its owner crashed or hung) another
   * request may take the key over. Default 120 000: longer than the publisher's retries of one append.
   */
  leaseMs?: number;
  now?: () => number;
}

interface Row {
  hash: string;
  state: 'pending' | 'done';
  receipt: string | null;
  expires_at: number;
}

/** Rows deleted per statement when pruning, so a large backlog never holds the write lock for long. */
const PRUNE_CHUNK = 1_000;

/** Opens the idempotency table in a SQLite file (creating it if needed). */
export function createIdempotencyStore(options: IdempotencyStoreOptions): IdempotencyStore {
  // NORMAL: a reservation commits without a sync (it only matters while its request runs); receipts are
  // committed under the configured mode by `flushReceipts`, and that sync covers the WAL written before.
  const db: Database = openSqlite({
    path: options.path,
    synchronous: 'normal',
    prepare: (opened) => runSqliteMigrations(opened, idempotencyMigrations),
  });
  const now = options.now ?? Date.now;
  const leaseMs = options.leaseMs ?? 120_000;
  const find = db.prepare<[string, string], Row>(
    'SELECT hash, state, receipt, expires_at FROM api_idempotency WHERE source = ? AND id = ?',
  );
  const hold = db.prepare<[string, string, string, string, number]>(
    `INSERT INTO api_idempotency (source, id, hash, state, token, receipt, expires_at)
     VALUES (?, ?, ?, 'pending', ?, NULL, ?)
     ON CONFLICT (source, id) DO UPDATE SET hash = excluded.hash, state = 'pending', token = excluded.token,
       receipt = NULL, expires_at = excluded.expires_at`,
  );
  const finish = db.prepare<[string, number, string, string, string]>(
    `UPDATE api_idempotency SET state = 'done', receipt = ?, expires_at = ?, token = NULL
     WHERE source = ? AND id = ? AND token = ?`,
  );
  const drop = db.prepare<[string]>("DELETE FROM api_idempotency WHERE token = ? AND state = 'pending'");
  const expired = db.prepare<[number, number]>(
    `DELETE FROM api_idempotency WHERE (source, id) IN
       (SELECT source, id FROM api_idempotency WHERE expires_at <= ? LIMIT ?)`,
  );

  const reserve = db.transaction((keys: readonly EventKey[], token: string): Reservation => {
    const at = now();
    const rows = keys.map((key) => {
      const row = find.get(key.source, key.id);
      return row === undefined || row.expires_at <= at ? undefined : row;
    });
    const conflicts = keys.filter((key, i) => rows[i] !== undefined && rows[i]?.hash !== key.hash);
    if (conflicts.length > 0) return { kind: 'conflict', keys: conflicts };
    if (rows.some((row) => row?.state === 'pending')) return { kind: 'busy' };
    keys.forEach((key, i) => {
      if (rows[i] === undefined) hold.run(key.source, key.id, key.hash, token, at + leaseMs);
    });
    return {
      kind: 'ok',
      receipts: rows.map((row) => (row?.receipt ? (JSON.parse(row.receipt) as RecordedReceipt) : undefined)),
    };
  });
  const complete = db.transaction((batch: readonly Completion[]) => {
    const until = now() + options.retentionMs;
    for (const { token, done } of batch) {
      for (const { key, receipt } of done)
        finish.run(JSON.stringify(receipt), until, key.source, key.id, token);
    }
  });
  const receipts = receiptBatcher((batch) => {
    if (options.synchronous === 'full') db.pragma('synchronous = FULL');
    try {
      complete.immediate(batch);
    } finally {
      if (options.synchronous === 'full') db.pragma('synchronous = NORMAL');
    }
  });

  return {
    retentionMs: options.retentionMs,
    reserve: (keys, token) => reserve.immediate(keys, token),
    complete: (token, done) => receipts.add({ token, done }),
    release: (token) => {
      drop.run(token);
    },
    prune() {
      const at = now();
      let total = 0;
      for (;;) {
        const { changes } = expired.run(at, PRUNE_CHUNK);
        total += changes;
        if (changes < PRUNE_CHUNK) return total;
      }
    },
    close: () => db.close(),
  };
}

/** The receipts one request records. */
interface Completion {
  token: string;
  done: readonly { key: EventKey; receipt: RecordedReceipt }[];
}

/**
 * Gathers the completions of concurrent requests and writes them together on the next turn of the event
 * loop: one transaction, one sync. Each `add` resolves when its batch is written (or rejects with its error).
 */
function receiptBatcher(write: (batch: readonly Completion[]) => void) {
  let waiting: { completion: Completion; resolve: () => void; reject: (error: unknown) => void }[] = [];
  const flush = () => {
    const batch = waiting;
    waiting = [];
    try {
      write(batch.map((entry) => entry.completion));
      for (const entry of batch) entry.resolve();
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    }
  };
  return {
    add(completion: Completion): Promise<void> {
      return new Promise((resolve, reject) => {
        if (waiting.length === 0) setImmediate(flush);
        waiting.push({ completion, resolve, reject });
      });
    },
  };
}
