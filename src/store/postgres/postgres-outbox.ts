import type { OutboxEntry, OutboxLease } from '../event-store.ts';
import type { OutboxCore } from '../store-handle.ts';
import { type PostgresContext, run } from './postgres-context.ts';
import {
  ACQUIRE_LEASE,
  LEASE_KEYS,
  markSentStatement,
  type OutboxRow,
  pendingCountStatement,
  pendingOutboxStatement,
  RELEASE_LEASE,
} from './sql/outbox.ts';

/** A relay lease: a session advisory lock held on a connection reserved for it; `leases` tracks the held ones. */
function createLease(ctx: PostgresContext, name: string, leases: Set<OutboxLease>): OutboxLease {
  const { sql, ready, schemaName } = ctx;
  let connection: Awaited<ReturnType<typeof sql.reserve>> | undefined;
  let keys: [number, number] | undefined;
  let held = false;
  const drop = () => {
    const reserved = connection;
    connection = undefined;
    held = false;
    // The lock goes with the session: closing the connection (not just returning it) releases it.
    reserved?.release();
  };
  const handle: OutboxLease = {
    async acquire() {
      await ready();
      leases.add(handle);
      try {
        connection ??= await sql.reserve();
        if (keys === undefined) {
          const [row] = await run<[number, number]>(connection, LEASE_KEYS, [`${schemaName}:${name}`]);
          keys = [Number(row![0]), Number(row![1])];
        }
        const [row] = await run<[boolean]>(connection, ACQUIRE_LEASE, keys);
        held = row![0] === true;
        return held;
      } catch (error) {
        // A broken session has lost the lock with it: start again on a new one next time.
        if (connection !== undefined) {
          // A session still alive must not go back to the pool holding the lock.
          await run(connection, 'SELECT pg_advisory_unlock_all()', []).catch(() => {});
          drop();
        }
        throw error;
      }
    },
    async release() {
      leases.delete(handle);
      if (connection === undefined) return;
      if (held && keys !== undefined) {
        await run(connection, RELEASE_LEASE, keys).catch(() => {});
      }
      drop();
    },
  };
  return handle;
}

/** The outbox of the store: pending rows, marking them sent, and relay leases; `releaseLeases` on close. */
export function createPostgresOutbox(ctx: PostgresContext): OutboxCore & { releaseLeases(): Promise<void> } {
  const { sql, schema, ready } = ctx;
  const leases = new Set<OutboxLease>();
  return {
    async pending(maxCount, tenantId) {
      await ready();
      const rows = await run<OutboxRow>(sql, pendingOutboxStatement(schema), [maxCount, tenantId ?? null]);
      return rows.map(
        ([id, streamId, version, position, tenant, topic, json]): OutboxEntry => ({
          id: BigInt(id),
          event: ctx.decodeAsWritten(json),
          streamId,
          version: Number(version),
          position: BigInt(position),
          tenantId: tenant,
          topic: topic ?? undefined,
        }),
      );
    },
    async markSent(ids, tenantId) {
      await ready();
      const [row] = await run<[number]>(sql, markSentStatement(schema), [ids.map(String), tenantId ?? null]);
      return row![0];
    },
    async pendingCount(tenantId) {
      await ready();
      const [row] = await run<[number]>(sql, pendingCountStatement(schema), [tenantId ?? null]);
      return row![0];
    },
    lease: (name) => createLease(ctx, name, leases),
    async releaseLeases() {
      // Leases hold reserved connections: give them back (and the locks up) before the pool ends.
      await Promise.allSettled([...leases].map((held) => held.release()));
    },
  };
}
