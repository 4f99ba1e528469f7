import { randomUUID } from 'node:crypto';
import type { OutboxCore } from '../store-handle.ts';
import type { SqliteOutboxStatements } from './sql/outbox.ts';
import type { SqliteContext } from './sqlite-context.ts';

/** The outbox of the store: pending rows, marking them sent, and relay leases kept in a table with a lease time. */
export function createSqliteOutbox(ctx: SqliteContext, sql: SqliteOutboxStatements): OutboxCore {
  const { exclusive } = ctx.serial;
  return {
    pending: (maxCount, tenantId) =>
      exclusive(() =>
        sql.pending(maxCount, tenantId ?? null).map((row) => ({
          id: row.id,
          event: ctx.decodeAsWritten(row.event),
          streamId: row.stream_id,
          version: Number(row.version),
          position: row.position,
          tenantId: row.tenant_id,
          topic: row.topic ?? undefined,
        })),
      ),
    markSent: (ids, tenantId) => exclusive(() => sql.markSent(ids, tenantId ?? null, Date.now())),
    pendingCount: (tenantId) => exclusive(() => sql.pendingCount(tenantId ?? null)),
    lease: (name, ttlMs) => {
      // The holder id is this lease object's: two relays in one process are two holders.
      const holder = randomUUID();
      return {
        acquire: () =>
          exclusive(() => {
            const now = Date.now();
            return sql.acquire(name, holder, now, now + ttlMs);
          }),
        release: () => exclusive(() => sql.release(name, holder)),
      };
    },
  };
}
