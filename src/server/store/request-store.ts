import type { FastifyRequest } from 'fastify';
import type { EventStore } from '../../store/event-store.ts';
import { readsPhi } from '../security/request-scope.ts';
import type { NodeStore } from './open-node-store.ts';

/**
 * The event store as one request may read it: sensitive fields as its identity may see them, and scoped to
 * `tenant` when one is named (a tenant handle: on PostgreSQL its reads run under row-level security).
 */
export type RequestStore = (request: FastifyRequest, tenant?: string) => EventStore;

/** The request store over the node's store. */
export function requestStoreOf(nodeStore: Pick<NodeStore, 'storeFor'>): RequestStore {
  return (request, tenant) => {
    const store = nodeStore.storeFor({ canReadPhi: readsPhi(request) });
    return tenant === undefined ? store : store.forTenant(tenant);
  };
}
