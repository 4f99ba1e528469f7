/** Roles an identity may hold; each grants a set of permissions (see authorization/permissions.ts). */
export const ROLES = ['admin', 'operator', 'producer', 'consumer', 'auditor', 'phi-reader'] as const;

/** A role an identity may hold. */
export type Role = (typeof ROLES)[number];

/** Every tenant, every topic or every event type: the pattern that matches anything. */
export const ANY = '*';

/**
 * Who is asking, as authentication established it: what they may do (roles) and where (tenants, topic and
 * event-type patterns, `*` matching anything).
 */
export interface Identity {
  /** Stable id, e.g. `key:3f9a0c1b` for an API key or `oidc:<sub>` for a token. */
  readonly subject: string;
  /** A human name for logs and the audit trail (the key's name, the token's `preferred_username`). */
  readonly name: string;
  /** How it was established. */
  readonly via: 'api-key' | 'oidc' | 'unauthenticated';
  readonly roles: readonly Role[];
  /** Tenants whose events it may see or write; `['*']` for all. An empty list sees nothing. */
  readonly tenants: readonly string[];
  /** Topic name patterns it may use (`orders.*`); `['*']` for all. */
  readonly topics: readonly string[];
  /** Event type patterns it may publish or read (`com.acme.*`); `['*']` for all. */
  readonly types: readonly string[];
}

/**
 * The identity of every request when authentication is off (`KEEL_AUTH=off`, loopback only): it may do
 * anything, as a node without security did.
 */
export const UNAUTHENTICATED_ADMIN: Identity = Object.freeze({
  subject: 'anonymous',
  name: 'anonymous',
  via: 'unauthenticated',
  roles: Object.freeze(['admin', 'phi-reader'] as Role[]),
  tenants: Object.freeze([ANY]),
  topics: Object.freeze([ANY]),
  types: Object.freeze([ANY]),
});

/**
 * The anonymous identity of a node without authentication that does not show PHI in plain
 * (`KEEL_PHI_READ` unset): everything UNAUTHENTICATED_ADMIN may do but read protected health information.
 */
export const UNAUTHENTICATED_ADMIN_MASKED: Identity = Object.freeze({
  ...UNAUTHENTICATED_ADMIN,
  roles: Object.freeze(['admin'] as Role[]),
});

/** True when `value` names a role. */
export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
