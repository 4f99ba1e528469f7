import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PatientCreated } from '../../../examples/catalog.ts';
import { createEvent } from '../../events/create-event.ts';
import { startTempNode, type TempNode } from '../test-support/temp-node.ts';

const TOPIC = 'healthcare.patients.events';
const TENANTS = ['acme', 'globex', undefined] as const;
const data = (patientId: string) => ({
  patientId,
  firstName: 'Ada',
  lastName: 'L',
  dateOfBirth: '1815-12-10',
});

describe('tenant isolation on the read paths', () => {
  let temp: TempNode;
  let acme: string;
  let both: string;

  beforeAll(async () => {
    temp = await startTempNode({ config: { auth: 'required' } });
    const { publisher, store } = temp.node;
    for (const tenant of TENANTS) {
      const label = tenant ?? 'none';
      for (let i = 0; i < 3; i++) {
        await publisher.publish(PatientCreated, data(`${label}-${i}`), tenant ? { tenantId: tenant } : {});
      }
      await store.store.append(
        `patient-${label}`,
        [
          createEvent(PatientCreated, data(`${label}-s`), {
            source: 'urn:test',
            ...(tenant ? { tenantId: tenant } : {}),
          }),
        ],
        tenant ? { tenantId: tenant } : {},
      );
    }
    acme = temp.node.keys.create({ name: 'acme', roles: ['consumer', 'operator'], tenants: ['acme'] }).key;
    both = temp.node.keys.create({ name: 'both', roles: ['consumer'], tenants: ['acme', 'globex'] }).key;
  });
  afterAll(() => temp?.close());

  const get = async (url: string, key: string, init: RequestInit = {}) => {
    const response = await fetch(`${temp.node.url}${url}`, {
      ...init,
      headers: {
        authorization: `Bearer ${key}`,
        ...(init.body ? { 'content-type': 'application/json' } : {}),
      },
    });
    return { status: response.status, text: await response.text() };
  };
  /** Tenants named in an answer's text: what a probe must never see. */
  const tenantsIn = (text: string) =>
    ['acme', 'globex', 'none'].filter((t) => text.includes(`"${t}-`) || text.includes(`${t}-`));

  it('shows a tenant-scoped identity only its tenant on every filtered read path', async () => {
    const paths = [
      `/v1/topics/${TOPIC}/messages?limit=100`,
      `/v1/topics/${TOPIC}/export?format=ndjson`,
      '/v1/store/events?limit=100',
      '/v1/store/streams?limit=100',
      '/v1/workflows/instances',
    ];
    for (const path of paths) {
      const answer = await get(path, acme);
      expect(answer.status, path).toBe(200);
      expect(
        tenantsIn(answer.text).filter((t) => t !== 'acme'),
        path,
      ).toEqual([]);
    }
    expect(tenantsIn((await get(`/v1/topics/${TOPIC}/messages?limit=100`, acme)).text)).toEqual(['acme']);
    expect(tenantsIn((await get('/v1/store/events?limit=100', acme)).text)).toEqual(['acme']);
  });

  it('refuses a probe of another tenant, and paths without a tenant filter, with the same 403', async () => {
    const probes = [
      `/v1/topics/${TOPIC}/messages?tenant=globex`,
      `/v1/topics/${TOPIC}/live?tenant=globex`,
      `/v1/topics/${TOPIC}/export?tenant=globex`,
      '/v1/store/events?tenant=globex',
      '/v1/store/streams?tenant=globex',
      '/v1/workflows/instances?tenant=globex',
      `/v1/topics/${TOPIC}/partitions/0/offsets/0`,
      '/v1/store/streams/patient-globex',
      '/v1/trace?correlationId=x',
      '/v1/groups/g/dead-letters',
      '/v1/keys',
    ];
    const bodies = new Set<string>();
    for (const path of probes) {
      const answer = await get(path, acme);
      expect(answer.status, path).toBe(403);
      bodies.add(answer.text);
    }
    const search = await get(`/v1/topics/${TOPIC}/search`, acme, {
      method: 'POST',
      body: JSON.stringify({ tenant: 'globex', where: ['data.lastName==L'] }),
    });
    expect(search.status).toBe(403);
    bodies.add(search.text);
    expect(bodies.size).toBe(1);
  });

  it('scopes a search job to the tenant, and asks an identity of several tenants to name one', async () => {
    const started = await get(`/v1/topics/${TOPIC}/search`, acme, {
      method: 'POST',
      body: JSON.stringify({ where: ['data.lastName==L'] }),
    });
    expect(started.status).toBe(202);
    expect(JSON.parse(started.text).params).toMatchObject({ tenant: 'acme' });
    const ambiguous = await get(`/v1/topics/${TOPIC}/messages`, both);
    expect(ambiguous.status).toBe(400);
    expect(JSON.parse(ambiguous.text).errors[0].path).toBe('query.tenant');
    const named = await get(`/v1/topics/${TOPIC}/messages?tenant=globex`, both);
    expect(tenantsIn(named.text)).toEqual(['globex']);
  });
});
