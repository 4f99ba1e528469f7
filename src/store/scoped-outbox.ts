import type { OutboxEntry, OutboxLease, StoreOutbox } from './event-store.ts';

/** The outbox as an adapter implements it; `tenantId` scopes reads to one tenant's entries. */
export interface OutboxCore {
  pending(maxCount: number, tenantId: string | undefined): Promise<OutboxEntry[]>;
  markSent(ids: readonly bigint[], tenantId: string | undefined): Promise<number>;
  pendingCount(tenantId: string | undefined): Promise<number>;
  lease(name: string, ttlMs: number): OutboxLease;
}

/** Default lease time of an outbox lease on SQLite, in milliseconds. */
export const DEFAULT_LEASE_TTL_MS = 5_000;

/** Default number of entries `pending` returns. */
const DEFAULT_PENDING_COUNT = 500;

/** The outbox a handle offers: arguments checked, reads scoped to the handle's tenant, leases named per tenant. */
export function createScopedOutbox(
  core: OutboxCore,
  scope: string | undefined,
  ensureOpen: (operation: string) => void,
): StoreOutbox {
  return {
    async pending(maxCount = DEFAULT_PENDING_COUNT) {
      ensureOpen('outbox.pending');
      if (!Number.isSafeInteger(maxCount) || maxCount < 1) {
        throw new TypeError(`outbox.pending: maxCount must be an integer ≥ 1, got ${maxCount}`);
      }
      return core.pending(maxCount, scope);
    },
    async markSent(ids) {
      ensureOpen('outbox.markSent');
      return ids.length === 0 ? 0 : core.markSent(ids, scope);
    },
    async pendingCount() {
      ensureOpen('outbox.pendingCount');
      return core.pendingCount(scope);
    },
    lease(name, leaseOptions = {}) {
      ensureOpen('outbox.lease');
      if (typeof name !== 'string' || name === '')
        throw new TypeError('outbox.lease: name must be a non-empty string');
      const ttlMs = leaseOptions.ttlMs ?? DEFAULT_LEASE_TTL_MS;
      if (!Number.isFinite(ttlMs) || ttlMs < 1)
        throw new TypeError(`outbox.lease: ttlMs must be ≥ 1, got ${ttlMs}`);
      return core.lease(scope === undefined ? name : `${name}@${scope}`, ttlMs);
    },
  };
}
