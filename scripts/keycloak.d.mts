/** Base URL of the local Keycloak. */
export const KEYCLOAK_URL: string;
/** Issuer of the tokens of the `keel` realm. */
export const REALM_ISSUER: string;
/** True when the realm's discovery document answers. */
export function keycloakHealthy(): Promise<boolean>;
/** Starts Keycloak unless it answers already. */
export function ensureKeycloak(options?: {
  quiet?: boolean;
}): Promise<{ url: string; issuer: string; started: boolean }>;
/** Stops the Keycloak this script started. */
export function stopKeycloak(): boolean;
