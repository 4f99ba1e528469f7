import { signal } from '@preact/signals';

/**
 * Who uses the console. The credential (an API key or an OpenID Connect bearer token) is kept in
 * sessionStorage: it lasts while the tab is open and is forgotten when it closes, and never goes to
 * localStorage or a cookie (no other tab or site sends it).
 */

/** Where the credential is kept for the tab's session. */
const STORAGE_KEY = 'keel.credential';

/** The identity the node says the console acts as (`GET /v1/whoami`). */
export interface SessionIdentity {
  subject: string;
  name: string;
  via: string;
  roles: string[];
  tenants: string[];
}

/** The credential sent as `Authorization: Bearer …`; undefined when none was given. */
export const credential = signal<string | undefined>(sessionStorage.getItem(STORAGE_KEY) ?? undefined);

/**
 * Who is signed in: undefined until the node answered, null when it asks for credentials, `unknown` when
 * it could not say (the pages then show what fails).
 */
export const identity = signal<SessionIdentity | null | undefined | 'unknown'>(undefined);

/** Remembers a credential the node accepted, for this tab's session. */
export function signIn(token: string, who: SessionIdentity): void {
  sessionStorage.setItem(STORAGE_KEY, token);
  credential.value = token;
  identity.value = who;
}

/** Forgets the credential; the node's next answer asks for one again. */
export function signOut(): void {
  sessionStorage.removeItem(STORAGE_KEY);
  credential.value = undefined;
  identity.value = null;
}

/** The node refused the credential (401): ask for one again. */
export function credentialRefused(): void {
  sessionStorage.removeItem(STORAGE_KEY);
  credential.value = undefined;
  identity.value = null;
}

/** Headers carrying the credential, for requests made outside the API client (streams, downloads). */
export function authHeaders(): Record<string, string> {
  return credential.value ? { authorization: `Bearer ${credential.value}` } : {};
}
