import { createRemoteJWKSet, type JWTPayload, errors as joseErrors, jwtVerify } from 'jose';
import { z } from 'zod';
import { parseOptions } from '../../errors/options.ts';
import { AuthenticationError } from '../errors.ts';
import { ANY, type Identity, isRole, type Role } from './identity.ts';

/** How tokens are checked and read. */
export const oidcOptionsSchema = z.strictObject({
  /** The issuer (`iss`) tokens must come from, e.g. `https://idp.example/realms/keel`. */
  issuer: z.url(),
  /** The audience (`aud`) tokens must name, e.g. `keel-api`. */
  audience: z.string().min(1),
  /** Where the issuer's signing keys are; default: the `jwks_uri` of its discovery document. */
  jwksUrl: z.url().optional(),
  /** Dotted path of the claim listing the roles (`realm_access.roles`). */
  rolesClaim: z.string().min(1).default('roles'),
  /** Dotted path of the claim listing the tenants; absent from a token: no tenant. */
  tenantsClaim: z.string().min(1).default('tenants'),
  /** A tenant claim value that means every tenant (e.g. for platform operators); none by default. */
  allTenantsValue: z.string().min(1).optional(),
  /**
   * Dotted path of the claim listing the topic patterns the token may use (`orders.*`). Unset: every topic;
   * set, a token without the claim may use no topic.
   */
  topicsClaim: z.string().min(1).optional(),
  /** Dotted path of the claim listing the event-type patterns it may use; unset and absent as `topicsClaim`. */
  typesClaim: z.string().min(1).optional(),
  /** Seconds of clock difference tolerated on `exp` and `nbf`. */
  clockToleranceSeconds: z.int().min(0).max(300).default(30),
});

/** Options of createOidcVerifier. */
export type OidcOptions = z.input<typeof oidcOptionsSchema>;

/** Checks OpenID Connect bearer tokens (JWT access tokens) against the issuer's published keys. */
export interface OidcVerifier {
  /** The identity a token carries; throws AuthenticationError for any token that does not hold. */
  verify(token: string): Promise<Identity>;
}

/** Algorithms accepted: asymmetric signatures only (`none` and shared secrets are refused). */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** Makes a verifier; the issuer's keys are fetched on first use and again when a token names an unknown key. */
export function createOidcVerifier(options: OidcOptions): OidcVerifier {
  const parsed = parseOptions(oidcOptionsSchema, options, 'oidc');
  let keys: ReturnType<typeof createRemoteJWKSet> | undefined;
  const keySet = async () => {
    keys ??= createRemoteJWKSet(new URL(parsed.jwksUrl ?? (await discoverJwksUrl(parsed.issuer))));
    return keys;
  };
  return {
    async verify(token) {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, await keySet(), {
          issuer: parsed.issuer,
          audience: parsed.audience,
          algorithms: ALGORITHMS,
          clockTolerance: parsed.clockToleranceSeconds,
          requiredClaims: ['exp', 'sub'],
        }));
      } catch (error) {
        throw new AuthenticationError(reasonOf(error), { cause: error });
      }
      const tenants = stringsAt(payload, parsed.tenantsClaim);
      return {
        subject: `oidc:${payload.sub}`,
        name:
          typeof payload.preferred_username === 'string' ? payload.preferred_username : String(payload.sub),
        via: 'oidc',
        roles: stringsAt(payload, parsed.rolesClaim).filter(isRole) as Role[],
        tenants:
          parsed.allTenantsValue !== undefined && tenants.includes(parsed.allTenantsValue) ? [ANY] : tenants,
        topics: parsed.topicsClaim === undefined ? [ANY] : stringsAt(payload, parsed.topicsClaim),
        types: parsed.typesClaim === undefined ? [ANY] : stringsAt(payload, parsed.typesClaim),
      };
    },
  };
}

/** The issuer's `jwks_uri`, from its discovery document. */
async function discoverJwksUrl(issuer: string): Promise<string> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw new Error(`answered ${response.status}`);
    const document = (await response.json()) as { jwks_uri?: unknown };
    if (typeof document.jwks_uri !== 'string') throw new Error('no jwks_uri in it');
    return document.jwks_uri;
  } catch (error) {
    throw new AuthenticationError(`the identity provider's discovery document ${url} failed`, {
      cause: error,
    });
  }
}

/** The strings at a dotted claim path (`realm_access.roles`); a single string counts as a list of one. */
function stringsAt(payload: JWTPayload, path: string): string[] {
  let value: unknown = payload;
  for (const key of path.split('.')) {
    value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  }
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** What was wrong with a token, in words that say nothing of the node's keys. */
function reasonOf(error: unknown): string {
  if (error instanceof AuthenticationError) return error.reason;
  if (error instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed)
    return `the token's "${error.claim}" claim is not accepted`;
  if (error instanceof joseErrors.JWSSignatureVerificationFailed)
    return 'the token signature does not verify';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'the token was not signed by a key of the issuer';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'the token algorithm is not accepted';
  return 'the token is malformed';
}
