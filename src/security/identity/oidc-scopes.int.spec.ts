import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAllowed } from '../authorization/authorize.ts';
import { createOidcVerifier } from './oidc-verifier.ts';

const ISSUER = 'https://idp.test/realms/keel';

describe('topic and event-type scopes from configurable OpenID Connect claims', () => {
  let server: Server;
  let jwksUrl: string;
  let sign: (claims: Record<string, unknown>) => Promise<string>;

  beforeAll(async () => {
    // The issuer's published key set, served as an identity provider serves it; tokens checked by jose.
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    server = createServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/certs`;
    sign = (claims) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(ISSUER)
        .setAudience('keel-api')
        .setSubject('user-1')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);
  });
  afterAll(() => new Promise<void>((resolve) => server?.close(() => resolve())));

  const verifier = (scopes: { topicsClaim?: string; typesClaim?: string }) =>
    createOidcVerifier({ issuer: ISSUER, audience: 'keel-api', jwksUrl, ...scopes });

  it('narrows the identity to the topic and type patterns its token lists, at nested claim paths', async () => {
    const token = await sign({
      roles: ['consumer'],
      tenants: ['acme'],
      keel: { topics: ['healthcare.*'], types: ['healthcare.patient.*', 'healthcare.visit.opened'] },
    });
    const identity = await verifier({ topicsClaim: 'keel.topics', typesClaim: 'keel.types' }).verify(token);
    expect(identity).toMatchObject({
      roles: ['consumer'],
      tenants: ['acme'],
      topics: ['healthcare.*'],
      types: ['healthcare.patient.*', 'healthcare.visit.opened'],
    });
    const read = (topic: string, type: string) =>
      isAllowed(identity, { permission: 'events:read', tenant: 'acme', topic, type });
    expect(read('healthcare.patients.events', 'healthcare.patient.created')).toBe(true);
    expect(read('billing.claims', 'healthcare.patient.created')).toBe(false);
    expect(read('healthcare.patients.events', 'billing.claim.filed')).toBe(false);
  });

  it('gives a token without the configured claim no topic or type, and every one when none is configured', async () => {
    const token = await sign({ roles: ['consumer'], tenants: ['acme'], topics: 'orders.*' });
    const scoped = await verifier({ topicsClaim: 'topics', typesClaim: 'types' }).verify(token);
    expect(scoped).toMatchObject({ topics: ['orders.*'], types: [] });
    expect(isAllowed(scoped, { permission: 'events:read', type: 'orders.placed' })).toBe(false);
    const unscoped = await verifier({}).verify(token);
    expect(unscoped).toMatchObject({ topics: ['*'], types: ['*'] });
  });
});
