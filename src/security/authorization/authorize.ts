import type { Identity } from '../identity/identity.ts';
import { matchesAny } from './patterns.ts';
import { type Permission, ROLE_PERMISSIONS } from './permissions.ts';

/** What is asked: a permission, and the tenant, topic and event type it touches when known. */
export interface AccessRequest {
  permission: Permission;
  tenant?: string | undefined;
  topic?: string | undefined;
  type?: string | undefined;
}

/** Permissions of each combination of roles, by the roles' joined names: built once per combination. */
const grantsByRoles = new Map<string, ReadonlySet<Permission>>();

/** The permissions an identity's roles grant together. */
export function grantsOf(identity: Identity): ReadonlySet<Permission> {
  const key = identity.roles.join(',');
  let grants = grantsByRoles.get(key);
  if (grants === undefined) {
    grants = new Set(identity.roles.flatMap((role) => ROLE_PERMISSIONS[role] ?? []));
    grantsByRoles.set(key, grants);
  }
  return grants;
}

/**
 * True when `identity` may do what is asked: `public` always; anything else needs a role granting it and,
 * for each of tenant, topic and type that is named, a scope that matches it. Deny unless all hold.
 */
export function isAllowed(identity: Identity | undefined, access: AccessRequest): boolean {
  if (access.permission === 'public') return true;
  if (identity === undefined) return false;
  if (access.permission !== 'authenticated' && !grantsOf(identity).has(access.permission)) return false;
  if (access.tenant !== undefined && !tenantAllowed(identity, access.tenant)) return false;
  if (access.topic !== undefined && !matchesAny(identity.topics, access.topic)) return false;
  if (access.type !== undefined && !matchesAny(identity.types, access.type)) return false;
  return true;
}

/**
 * True when `identity` may see events of `tenant`; an event without a tenant (empty string) belongs to no
 * tenant and only an identity of every tenant sees it.
 */
export function tenantAllowed(identity: Identity, tenant: string): boolean {
  return identity.tenants.includes('*') || (tenant !== '' && identity.tenants.includes(tenant));
}
