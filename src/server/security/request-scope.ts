import type { FastifyRequest } from 'fastify';
import { grantsOf, tenantAllowed } from '../../security/authorization/authorize.ts';
import { ANY } from '../../security/identity/identity.ts';

/**
 * The tenants whose items the request's identity may see; undefined for every tenant. A request without an
 * identity reached a public route (the hook sets one on every other), which reads no event data.
 */
export function tenantsOf(request: FastifyRequest): readonly string[] | undefined {
  const tenants = request.identity?.tenants;
  return tenants === undefined || tenants.includes(ANY) ? undefined : tenants;
}

/**
 * True when the request may see an item of `tenant` (undefined or `''`: an item of no tenant, which only an
 * identity of every tenant sees). Routes answer 404 for an item it may not see, exactly as for a missing one.
 */
export function seesTenant(request: FastifyRequest, tenant: string | undefined): boolean {
  const identity = request.identity;
  return identity === undefined || tenantAllowed(identity, tenant ?? '');
}

/** True when the request's identity holds the read-PHI permission: sensitive fields are shown in plain. */
export function readsPhi(request: FastifyRequest): boolean {
  return request.identity !== undefined && grantsOf(request.identity).has('phi:read');
}
