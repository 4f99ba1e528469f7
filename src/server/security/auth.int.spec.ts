import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Permission, ROLE_PERMISSIONS } from '../../security/authorization/permissions.ts';
import { ROLES, type Role } from '../../security/identity/identity.ts';
import { startTempNode, type TempNode } from '../test-support/temp-node.ts';
import { accessOf } from './route-access.ts';

const TOPIC = 'healthcare.patients.events';
const patient = {
  specversion: '1.0',
  type: 'healthcare.patient.created',
  source: 'urn:test',
  id: 'p-auth-1',
  tenantid: 'acme',
  data: { patientId: 'p-1', firstName: 'Ada', lastName: 'L', dateOfBirth: '1815-12-10' },
};

/** One request per permission (and the SSE streams and a job), with what each needs. */
const ENDPOINTS: {
  permission: Permission;
  method: 'GET' | 'POST';
  url: string;
  body?: unknown;
  sse?: boolean;
}[] = [
  { permission: 'authenticated', method: 'GET', url: '/v1/whoami' },
  { permission: 'metadata:read', method: 'GET', url: '/v1/catalog' },
  { permission: 'metadata:read', method: 'GET', url: '/v1/jobs' },
  { permission: 'metadata:read', method: 'GET', url: '/v1/live/figures', sse: true },
  { permission: 'events:read', method: 'GET', url: `/v1/topics/${TOPIC}/messages` },
  { permission: 'events:read', method: 'GET', url: `/v1/topics/${TOPIC}/live`, sse: true },
  { permission: 'events:read', method: 'GET', url: '/v1/store/events' },
  { permission: 'events:publish', method: 'POST', url: '/v1/events', body: patient },
  { permission: 'groups:admin', method: 'POST', url: '/v1/groups/g-auth/reset', body: { to: 'earliest' } },
  { permission: 'dead-letters:admin', method: 'POST', url: '/v1/groups/g-auth/dead-letters/retry', body: {} },
  { permission: 'jobs:admin', method: 'POST', url: '/v1/jobs/job-nope/cancel' },
  { permission: 'workflows:admin', method: 'POST', url: '/v1/workflows/instances/wf-nope/cancel', body: {} },
  { permission: 'store:admin', method: 'POST', url: '/v1/store/projections/nope/rebuild', body: {} },
  { permission: 'metrics:read', method: 'GET', url: '/metrics' },
  { permission: 'keys:admin', method: 'GET', url: '/v1/keys' },
];

describe('authentication and authorization of the HTTP API', () => {
  let temp: TempNode;
  let base: string;
  const keyOf: Partial<Record<Role, string>> = {};

  beforeAll(async () => {
    temp = await startTempNode({ config: { auth: 'required' } });
    base = temp.node.url as string;
    for (const role of ROLES) keyOf[role] = temp.node.keys.create({ name: `${role}-key`, roles: [role] }).key;
  });
  afterAll(() => temp?.close());

  /** Sends a request and reads at most the head of an answer (SSE streams never end). */
  const send = async (
    method: string,
    url: string,
    options: { key?: string | undefined; body?: unknown; headers?: Record<string, string> } = {},
  ) => {
    const controller = new AbortController();
    const headers: Record<string, string> = { ...options.headers };
    if (options.key) headers.authorization = `Bearer ${options.key}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${base}${url}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: controller.signal,
    });
    const streamed = (response.headers.get('content-type') ?? '').startsWith('text/event-stream');
    const text = streamed ? '' : await response.text();
    controller.abort();
    return {
      status: response.status,
      type: response.headers.get('content-type') ?? '',
      text,
      headers: response.headers,
    };
  };

  it('declares a permission for every operation of the OpenAPI document', async () => {
    const document = JSON.parse((await send('GET', '/v1/openapi.json')).text) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const undeclared: string[] = [];
    let operations = 0;
    for (const [path, methods] of Object.entries(document.paths)) {
      const url = path.replace(/\{([^}]+)\}/g, ':$1');
      for (const method of Object.keys(methods)) {
        operations++;
        if (accessOf(method.toUpperCase(), url) === undefined)
          undeclared.push(`${method.toUpperCase()} ${url}`);
      }
    }
    expect(operations).toBeGreaterThan(40);
    expect(undeclared).toEqual([]);
  });

  it('answers 401 problem+json without an identity, and serves public routes to anyone', async () => {
    for (const endpoint of ENDPOINTS) {
      const answer = await send(endpoint.method, endpoint.url, { body: endpoint.body });
      expect(answer.status, endpoint.url).toBe(401);
      expect(answer.type).toContain('application/problem+json');
      expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="keel"');
      expect(JSON.parse(answer.text)).toMatchObject({
        status: 401,
        type: 'https://keel.dev/problems/unauthenticated',
      });
    }
    for (const url of ['/healthz', '/readyz', '/v1/openapi.json', '/v1/docs']) {
      expect((await send('GET', url)).status, url).toBe(200);
    }
  });

  it('refuses malformed, unknown, revoked and expired keys with 401 and counts each refusal', async () => {
    const { key, record } = temp.node.keys.create({ name: 'short', roles: ['consumer'] });
    expect((await send('GET', '/v1/whoami', { key })).status).toBe(200);
    temp.node.keys.revoke(record.prefix);
    const expired = temp.node.keys.create({
      name: 'old',
      roles: ['consumer'],
      expiresAt: new Date(Date.now() - 1),
    });
    const cases: [string, string][] = [
      [key, 'revoked'],
      [expired.key, 'expired'],
      ['keel_12345678_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'not known'],
      ['not-a-key', 'malformed'],
    ];
    for (const [credential, reason] of cases) {
      const answer = await send('GET', '/v1/whoami', { key: credential });
      expect(answer.status).toBe(401);
      expect(JSON.parse(answer.text).detail).toContain(reason);
    }
    const basic = await send('GET', '/v1/whoami', { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expect(basic.status).toBe(401);
    const metrics = await send('GET', '/metrics', { key: keyOf.admin });
    const counted = /keel_auth_refusals_total\{status="401",reason="credentials"\} (\d+)/.exec(metrics.text);
    expect(Number(counted?.[1])).toBeGreaterThanOrEqual(5);
  });

  it('allows each role exactly the endpoints its permissions grant (including SSE streams and jobs)', async () => {
    const mismatches: string[] = [];
    for (const role of ROLES) {
      for (const endpoint of ENDPOINTS) {
        const allowed =
          endpoint.permission === 'authenticated' || ROLE_PERMISSIONS[role].includes(endpoint.permission);
        const answer = await send(endpoint.method, endpoint.url, { key: keyOf[role], body: endpoint.body });
        const refused = answer.status === 403;
        if (allowed === refused || answer.status === 401 || answer.status >= 500) {
          mismatches.push(
            `${role} ${endpoint.method} ${endpoint.url}: ${answer.status} ${answer.text.slice(0, 120)}`,
          );
        }
        if (refused) {
          expect(JSON.parse(answer.text)).toEqual({
            type: 'https://keel.dev/problems/forbidden',
            title: 'Forbidden',
            status: 403,
            detail: 'this identity is not allowed to do this',
          });
        }
        if (allowed && endpoint.sse) expect(answer.type).toContain('text/event-stream');
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('scopes topics by pattern, and a refusal reads the same whether the topic exists or not', async () => {
    const { key } = temp.node.keys.create({ name: 'scoped', roles: ['consumer'], topics: ['billing.*'] });
    const existing = await send('GET', `/v1/topics/${TOPIC}/messages`, { key });
    const missing = await send('GET', '/v1/topics/no.such.topic/messages', { key });
    expect(existing.status).toBe(403);
    expect(missing.status).toBe(403);
    expect(existing.text).toBe(missing.text);
    const inScope = await send('GET', '/v1/topics/billing.invoices/messages', { key });
    expect(inScope.status).toBe(404);
  });

  it('lets a producer publish only within its tenants: role × tenant over the HTTP binding', async () => {
    const scopes: Record<string, string[]> = { acme: ['acme'], globex: ['globex'], every: ['*'] };
    const mismatches: string[] = [];
    let n = 0;
    for (const [label, tenants] of Object.entries(scopes)) {
      const { key } = temp.node.keys.create({ name: `producer-${label}`, roles: ['producer'], tenants });
      for (const tenant of ['acme', 'globex', undefined]) {
        const event = { ...patient, id: `tenant-probe-${n++}`, tenantid: tenant };
        const before = await temp.totalRecords();
        const answer = await send('POST', '/v1/events', { key, body: event });
        const allowed = tenants.includes('*') || (tenant !== undefined && tenants.includes(tenant));
        const grew = (await temp.totalRecords()) > before;
        if (answer.status !== (allowed ? 201 : 403) || grew !== allowed) {
          mismatches.push(`${label} → ${tenant}: ${answer.status}, written ${grew}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('lets an admin create, list and revoke keys over the API; the key is shown only at creation', async () => {
    const created = await send('POST', '/v1/keys', {
      key: keyOf.admin,
      body: { name: 'made-over-http', roles: ['producer'], tenants: ['acme'] },
    });
    expect(created.status).toBe(201);
    const { key, record } = JSON.parse(created.text) as { key: string; record: { prefix: string } };
    expect((await send('GET', '/v1/whoami', { key })).status).toBe(200);
    const listed = await send('GET', '/v1/keys', { key: keyOf.admin });
    expect(listed.text).toContain(record.prefix);
    expect(listed.text).not.toContain(key);
    expect((await send('DELETE', `/v1/keys/${record.prefix}`, { key: keyOf.admin })).status).toBe(200);
    expect((await send('GET', '/v1/whoami', { key })).status).toBe(401);
    expect((await send('DELETE', '/v1/keys/00000000', { key: keyOf.admin })).status).toBe(404);
    expect(
      (await send('POST', '/v1/keys', { key: keyOf.admin, body: { name: 'x', roles: ['root'] } })).status,
    ).toBe(400);
  });
});

describe('a node with authentication off (the loopback default)', () => {
  it('lets every request do anything, as the anonymous admin (reading PHI in plain with KEEL_PHI_READ)', async () => {
    for (const phiRead of [false, true]) {
      const temp = await startTempNode({ config: { phiRead } });
      try {
        expect(temp.node.authMode).toBe('off');
        const answer = await fetch(`${temp.node.url}/v1/whoami`);
        expect(await answer.json()).toMatchObject({
          subject: 'anonymous',
          roles: phiRead ? ['admin', 'phi-reader'] : ['admin'],
        });
      } finally {
        await temp.close();
      }
    }
  });
});
