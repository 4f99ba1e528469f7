import type { Role } from '../identity/identity.ts';

/**
 * What a route, stream, job or command needs. `public`: anyone, even without an identity (health, the API's
 * description, the console's files); `authenticated`: any identity.
 */
export const PERMISSIONS = [
  'public',
  'authenticated',
  'metadata:read',
  'events:read',
  'events:publish',
  'topics:admin',
  'groups:admin',
  'dead-letters:admin',
  'store:admin',
  'workflows:admin',
  'jobs:admin',
  'metrics:read',
  'keys:admin',
  'audit:read',
  'schemas:admin',
  'subscriptions:admin',
  'phi:erase',
  'phi:read',
] as const;

/** A permission. */
export type Permission = (typeof PERMISSIONS)[number];

const READ: readonly Permission[] = ['authenticated', 'metadata:read'];

/** The permissions each role grants; `public` and `authenticated` need no grant beyond an identity. */
export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  admin: PERMISSIONS.filter((permission) => permission !== 'phi:read'),
  operator: [
    ...READ,
    'events:read',
    'topics:admin',
    'groups:admin',
    'dead-letters:admin',
    'store:admin',
    'workflows:admin',
    'jobs:admin',
    'metrics:read',
    'schemas:admin',
    'subscriptions:admin',
  ],
  // Producers register the schemas of what they publish, as Confluent's serializers do on first use.
  producer: [...READ, 'events:publish', 'schemas:admin'],
  consumer: [...READ, 'events:read'],
  auditor: [...READ, 'audit:read'],
  'phi-reader': ['authenticated', 'phi:read'],
};

/** True when `value` names a permission. */
export function isPermission(value: string): value is Permission {
  return (PERMISSIONS as readonly string[]).includes(value);
}
