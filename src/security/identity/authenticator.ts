import { AuthenticationError } from '../errors.ts';
import { API_KEY_MARK, type ApiKeyStore } from './api-key-store.ts';
import type { Identity } from './identity.ts';
import type { OidcVerifier } from './oidc-verifier.ts';

/** Longest credential accepted, in characters: a JWT with many claims fits; anything longer is refused unread. */
export const MAX_CREDENTIAL_LENGTH = 16_384;

/** Turns the `Authorization` header of a request into an identity. */
export interface Authenticator {
  /**
   * The identity of `Authorization: Bearer <API key or token>`; throws AuthenticationError when the header
   * is missing, malformed or names a credential that does not hold.
   */
  authenticate(authorization: string | undefined): Promise<Identity>;
}

/** Checks API keys (`keel_…`) in the key store and anything else as an OpenID Connect token, when configured. */
export function createAuthenticator(sources: {
  keys: ApiKeyStore;
  oidc?: OidcVerifier | undefined;
}): Authenticator {
  return {
    async authenticate(authorization) {
      if (authorization === undefined || authorization.trim() === '') {
        throw new AuthenticationError('no credentials: send "Authorization: Bearer <API key or token>"');
      }
      if (authorization.length > MAX_CREDENTIAL_LENGTH)
        throw new AuthenticationError('the credentials are too long');
      const match = /^Bearer +(\S+)\s*$/i.exec(authorization);
      if (!match)
        throw new AuthenticationError('the Authorization header is not "Bearer <API key or token>"');
      const credential = match[1] as string;
      if (credential.startsWith(API_KEY_MARK)) return sources.keys.authenticate(credential);
      if (sources.oidc === undefined) throw new AuthenticationError('the API key is malformed');
      return sources.oidc.verify(credential);
    },
  };
}
