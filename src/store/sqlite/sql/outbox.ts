import type { Database } from 'better-sqlite3';
import { numbered } from './numbered.ts';

/** An outbox row as SQLite returns it (integers as bigint). */
export interface SqliteOutboxRow {
  id: bigint;
  stream_id: string;
  version: bigint;
  position: bigint;
  tenant_id: string;
  topic: string | null;
  event: string;
}

/** The outbox and lease statements. */
export interface SqliteOutboxStatements {
  /** Unsent rows, oldest first (tenant null: all). */
  pending(limit: number, tenantId: string | null): SqliteOutboxRow[];
  /** Marks rows sent; returns how many were pending. */
  markSent(ids: readonly bigint[], tenantId: string | null, now: number): number;
  pendingCount(tenantId: string | null): number;
  /**
   * Takes the lease when free, expired or already this holder's, renewing it until `expiresAt` (epoch
   * ms); true when `holder` has it afterwards. One statement, so two processes cannot both win.
   */
  acquire(name: string, holder: string, now: number, expiresAt: number): boolean;
  /** Frees the lease if `holder` has it. */
  release(name: string, holder: string): void;
  /** Removes rows sent before `before` (epoch ms). */
  purgeSent(before: number): void;
}

/** Prepares the outbox statements on one connection. */
export function prepareSqliteOutbox(db: Database): SqliteOutboxStatements {
  const pending = db
    .prepare<[Record<number, unknown>], SqliteOutboxRow>(
      `SELECT id, stream_id, version, position, tenant_id, topic, event FROM store_outbox
        WHERE sent_at IS NULL AND (?2 IS NULL OR tenant_id = ?2) ORDER BY id LIMIT ?1`,
    )
    .safeIntegers(true);
  const markSent = db.prepare(
    `UPDATE store_outbox SET sent_at = ?3
      WHERE id IN (SELECT value FROM json_each(?1)) AND sent_at IS NULL AND (?2 IS NULL OR tenant_id = ?2)`,
  );
  const pendingCount = db
    .prepare<[Record<number, unknown>], number>(
      'SELECT count(*) FROM store_outbox WHERE sent_at IS NULL AND (?1 IS NULL OR tenant_id = ?1)',
    )
    .pluck();
  const acquire = db
    .prepare<[Record<number, unknown>], string>(
      `INSERT INTO store_leases (name, holder, expires_at) VALUES (?1, ?2, ?4)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
        WHERE store_leases.holder = excluded.holder OR store_leases.expires_at <= ?3
       RETURNING holder`,
    )
    .pluck();
  const release = db.prepare('DELETE FROM store_leases WHERE name = ? AND holder = ?');
  const purgeSent = db.prepare('DELETE FROM store_outbox WHERE sent_at IS NOT NULL AND sent_at < ?');
  return {
    pending: (limit, tenantId) => pending.all(numbered(limit, tenantId)),
    markSent: (ids, tenantId, now) => markSent.run(numbered(`[${ids.join(',')}]`, tenantId, now)).changes,
    pendingCount: (tenantId) => pendingCount.get(numbered(tenantId)) ?? 0,
    acquire: (name, holder, now, expiresAt) => acquire.get(numbered(name, holder, now, expiresAt)) === holder,
    release: (name, holder) => {
      release.run(name, holder);
    },
    purgeSent: (before) => {
      purgeSent.run(before);
    },
  };
}
