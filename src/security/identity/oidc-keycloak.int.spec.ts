import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureKeycloak, KEYCLOAK_URL, REALM_ISSUER } from '../../../scripts/keycloak.mjs';
import { startTempNode, type TempNode } from '../../server/test-support/temp-node.ts';
import { createOidcVerifier } from './oidc-verifier.ts';

/** An access token of a user of the test realm (infra/keycloak/keel-realm.json), by password grant. */
async function tokenOf(username: string, password: string, clientId = 'keel-cli'): Promise<string> {
  const response = await fetch(`${REALM_ISSUER}/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', client_id: clientId, username, password }),
  });
  const body = (await response.json()) as { access_token?: string; error_description?: string };
  if (!body.access_token) throw new Error(`no token for ${username}: ${body.error_description}`);
  return body.access_token;
}

const claims = { rolesClaim: 'keel_roles', tenantsClaim: 'keel_tenants' };

describe('OpenID Connect tokens from a real Keycloak', () => {
  beforeAll(async () => {
    await ensureKeycloak({ quiet: true });
  }, 300_000);

  it('reads roles and tenants from the configured claims of a verified token', async () => {
    const verifier = createOidcVerifier({ issuer: REALM_ISSUER, audience: 'keel-api', ...claims });
    const alice = await verifier.verify(await tokenOf('alice', 'alice-Pa55word'));
    expect(alice).toMatchObject({ via: 'oidc', name: 'alice', roles: ['consumer'], tenants: ['acme'] });
    expect(alice.subject).toMatch(/^oidc:[0-9a-f-]{36}$/);
    const gina = await verifier.verify(await tokenOf('gina', 'gina-Pa55word'));
    expect([...gina.roles].sort()).toEqual(['consumer', 'producer']);
    expect(gina.tenants).toEqual(['globex']);
  });

  it('refuses a token for another audience, from another issuer, tampered, or signed by another key', async () => {
    const token = await tokenOf('alice', 'alice-Pa55word');
    const wrongAudience = createOidcVerifier({ issuer: REALM_ISSUER, audience: 'billing-api', ...claims });
    await expect(wrongAudience.verify(token)).rejects.toThrow(/"aud" claim is not accepted/);
    const wrongIssuer = createOidcVerifier({
      issuer: `${KEYCLOAK_URL}/realms/master`,
      audience: 'keel-api',
      jwksUrl: `${REALM_ISSUER}/protocol/openid-connect/certs`,
    });
    await expect(wrongIssuer.verify(token)).rejects.toThrow(/"iss" claim is not accepted/);

    const verifier = createOidcVerifier({ issuer: REALM_ISSUER, audience: 'keel-api', ...claims });
    // Another client's token names no keel-api audience.
    await expect(verifier.verify(await tokenOf('alice', 'alice-Pa55word', 'other-app'))).rejects.toThrow(
      /"aud"/,
    );
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const raised = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), keel_roles: ['admin'] }),
    ).toString('base64url');
    await expect(verifier.verify(`${header}.${raised}.${signature}`)).rejects.toThrow(
      /signature does not verify/,
    );

    // A token made by someone else's key, naming the realm's key id, the right issuer and audience.
    const kid = (JSON.parse(Buffer.from(header, 'base64url').toString()) as { kid: string }).kid;
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({ keel_roles: ['admin'], keel_tenants: ['acme'] })
      .setProtectedHeader({ alg: 'RS256', kid })
      .setIssuer(REALM_ISSUER)
      .setAudience('keel-api')
      .setSubject('mallory')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    await expect(verifier.verify(forged)).rejects.toThrow(/signature does not verify/);
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${raised}.`;
    await expect(verifier.verify(unsigned)).rejects.toThrow(/not accepted|malformed/);
    await expect(verifier.verify('a.b.c')).rejects.toThrow(/malformed/);
  });

  describe('on a node', () => {
    let temp: TempNode;
    beforeAll(async () => {
      temp = await startTempNode({
        config: {
          auth: 'required',
          oidcIssuer: REALM_ISSUER,
          oidcAudience: 'keel-api',
          oidcRolesClaim: 'keel_roles',
          oidcTenantsClaim: 'keel_tenants',
          oidcAllTenants: 'all-tenants',
        },
      });
    });
    afterAll(() => temp?.close());

    it('accepts Keycloak tokens as identities and applies their roles', async () => {
      const call = (url: string, token: string, init: RequestInit = {}) =>
        fetch(`${temp.node.url}${url}`, {
          ...init,
          headers: { authorization: `Bearer ${token}`, ...init.headers },
        });
      const alice = await tokenOf('alice', 'alice-Pa55word');
      const whoami = await call('/v1/whoami', alice);
      expect(whoami.status).toBe(200);
      expect(await whoami.json()).toMatchObject({ name: 'alice', roles: ['consumer'], tenants: ['acme'] });
      const publish = await call('/v1/events', alice, {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json' },
      });
      expect(publish.status).toBe(403);
      // An admin of every tenant (the group named by KEEL_OIDC_ALL_TENANTS) may manage keys; a scoped one may not.
      const olga = await tokenOf('olga', 'olga-Pa55word');
      expect(await (await call('/v1/whoami', olga)).json()).toMatchObject({
        roles: ['admin'],
        tenants: ['*'],
      });
      expect((await call('/v1/keys', olga)).status).toBe(200);
      expect((await call('/v1/keys', alice)).status).toBe(403);
      const wrong = await call('/v1/whoami', `${alice.slice(0, -4)}AAAA`);
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get('content-type')).toContain('application/problem+json');
    });
  });
});
