import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PatientCreated } from '../../../examples/catalog.ts';
import { createEvent } from '../../events/create-event.ts';
import type { StoredRecord } from '../../transport/transport.ts';
import { defineWorkflow } from '../../workflows/define-workflow.ts';
import type { JobView } from '../jobs/job-registry.ts';
import { allRecords, seedDeadLetters } from '../test-support/api-fixture.ts';
import { startTempNode, type TempNode } from '../test-support/temp-node.ts';
import { accessOf } from './route-access.ts';

const TOPIC = 'healthcare.patients.events';
const GROUP = 'probe-group';
const TENANTS = ['acme', 'globex', undefined] as const;
/** Text only another tenant's (or no tenant's) items hold: a probe's answer must never contain it. */
const SECRET = /(GLOBEX|NONE)-SECRET/;
const marker = (tenant: string | undefined) => `${(tenant ?? 'none').toUpperCase()}-SECRET`;
const data = (patientId: string) => ({
  patientId,
  firstName: 'Ada',
  lastName: 'L',
  dateOfBirth: '1815-12-10',
});
const waiting = defineWorkflow({
  id: 'probe-flow',
  version: 1,
  steps: [{ name: 'wait', waitForSignal: 'go' }],
});

/** What the probe of another tenant's items knows of them. */
interface Foreign {
  record: StoredRecord;
  storedEventId: string;
  deadLetterId: string;
  instanceId: string;
  jobId: string;
}

describe('tenant isolation on the read paths', () => {
  let temp: TempNode;
  let acme: string;
  let both: string;
  let admin: string;
  let acmeRecords: number;
  const foreign = {} as Foreign;

  beforeAll(async () => {
    temp = await startTempNode({ config: { auth: 'required' }, workflows: [waiting] });
    const { publisher, store } = temp.node;
    for (const tenant of TENANTS) {
      const scope = tenant ? { tenantId: tenant } : {};
      for (let i = 0; i < 3; i++)
        await publisher.publish(PatientCreated, data(`${marker(tenant)}-${i}`), scope);
      const stored = createEvent(PatientCreated, data(`${marker(tenant)}-s`), {
        source: 'urn:test',
        ...scope,
      });
      await store.store.append(`patient-${tenant ?? 'none'}`, [stored], scope);
      const { instanceId } = await store.workflows.start(waiting, { note: marker(tenant) }, scope);
      if (tenant === 'globex') Object.assign(foreign, { storedEventId: stored.id, instanceId });
    }
    const records = await allRecords(temp.node, TOPIC);
    const ofTenant = (tenant: string | undefined) =>
      records.filter((r) => (r.headers.ce_tenantid ?? undefined) === tenant);
    foreign.record = ofTenant('globex')[0] as StoredRecord;
    acmeRecords = ofTenant('acme').length;
    for (const tenant of TENANTS)
      await seedDeadLetters(temp.node, GROUP, ofTenant(tenant), 'ProbeError', 'probe');
    acme = temp.node.keys.create({ name: 'acme', roles: ['admin', 'consumer'], tenants: ['acme'] }).key;
    both = temp.node.keys.create({ name: 'both', roles: ['consumer'], tenants: ['acme', 'globex'] }).key;
    admin = temp.node.keys.create({ name: 'admin', roles: ['admin'] }).key;
    const globex = temp.node.keys.create({ name: 'globex', roles: ['consumer'], tenants: ['globex'] }).key;
    const job = await get(`/v1/topics/${TOPIC}/search`, globex, {
      method: 'POST',
      body: JSON.stringify({ where: [`data.patientId==${marker('globex')}-0`] }),
    });
    foreign.jobId = (JSON.parse(job.text) as JobView).id;
    const dlq = await get(`/v1/groups/${GROUP}/dead-letters?limit=100`, admin);
    const entries = (JSON.parse(dlq.text) as { items: { id: string; eventId: string }[] }).items;
    const globexIds = new Set(ofTenant('globex').map((r) => r.headers.ce_id));
    foreign.deadLetterId = entries.find((entry) => globexIds.has(entry.eventId))?.id as string;
    expect(foreign.deadLetterId).toBeDefined();
  });
  afterAll(() => temp?.close());

  async function get(url: string, key: string, init: RequestInit = {}) {
    const controller = new AbortController();
    const response = await fetch(`${temp.node.url}${url}`, {
      ...init,
      signal: controller.signal,
      headers: {
        authorization: `Bearer ${key}`,
        ...(init.body ? { 'content-type': 'application/json' } : {}),
      },
    });
    // A stream of server-sent events never ends: what it sends in half a second is its answer.
    if ((response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      setTimeout(() => controller.abort(), 500);
      let text = '';
      try {
        for await (const chunk of response.body ?? []) text += Buffer.from(chunk).toString('utf8');
      } catch {}
      return { status: response.status, text };
    }
    return { status: response.status, text: await response.text() };
  }

  /** A URL of the operation pointing at another tenant's items, wherever a path parameter can name one. */
  function foreignUrl(path: string): string {
    const values: Record<string, string> = {
      topic: TOPIC,
      partition: String(foreign.record.partition),
      offset: String(foreign.record.offset),
      group: GROUP,
      streamId: 'patient-globex',
      eventId: foreign.storedEventId,
      instanceId: foreign.instanceId,
      id: path.includes('dead-letters') ? foreign.deadLetterId : foreign.jobId,
    };
    const url = path.replace(/:([A-Za-z]+)/g, (_, name: string) => encodeURIComponent(values[name] ?? 'x'));
    if (url === '/v1/trace') return `${url}?correlationId=${foreign.storedEventId}`;
    if (url.endsWith('/live')) return `${url}?from=earliest`;
    return url;
  }

  it("walks every read operation of the OpenAPI document and finds nothing of another tenant's", async () => {
    const document = JSON.parse((await get('/v1/openapi.json', admin)).text) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const answers: string[] = [];
    const aimed: string[] = [];
    let probed = 0;
    for (const [openPath, methods] of Object.entries(document.paths)) {
      const path = openPath.replace(/\{([^}]+)\}/g, ':$1');
      for (const method of Object.keys(methods).map((m) => m.toUpperCase())) {
        const access = accessOf(method, path);
        const reads = method === 'GET' || path.endsWith('/search') || path.endsWith('/audit/verify');
        if (!reads || access === undefined || access.permission === 'public') continue;
        probed++;
        const init = method === 'GET' ? {} : { method, body: '{}' };
        const answer = await get(foreignUrl(path), acme, init);
        // Another tenant's item is missing to the probe; a list shows it nothing of them.
        if (answer.status >= 500 || SECRET.test(answer.text))
          answers.push(`${method} ${path}: ${answer.status}`);
        // The same URL shows an identity of every tenant the other tenants' items: the probe aimed at them.
        const control = await get(foreignUrl(path), admin, init);
        expect(control.status, `admin ${method} ${path}`).toBeLessThan(500);
        if (SECRET.test(control.text)) aimed.push(`${method} ${path}`);
      }
    }
    expect(probed).toBeGreaterThan(40);
    expect(answers).toEqual([]);
    expect(aimed).toEqual(
      expect.arrayContaining([
        'GET /v1/topics/:topic/messages',
        'GET /v1/topics/:topic/partitions/:partition/offsets/:offset',
        'GET /v1/topics/:topic/live',
        'GET /v1/topics/:topic/export',
        'GET /v1/store/streams/:streamId',
        'GET /v1/store/events',
        'GET /v1/trace/:eventId',
        'GET /v1/trace',
        'GET /v1/groups/:group/dead-letters/:id',
        'GET /v1/workflows/instances/:instanceId',
        'GET /v1/jobs',
        'GET /v1/jobs/:id',
      ]),
    );
  });

  it("answers another tenant's single item with the 404 of a missing one", async () => {
    const missing = (url: string, id: string, other: string) => url.replace(id, other);
    const record = foreign.record;
    const items: [string, string, string][] = [
      [
        `/v1/topics/${TOPIC}/partitions/${record.partition}/offsets/${record.offset}`,
        `/${record.offset}`,
        '/999999',
      ],
      ['/v1/store/streams/patient-globex', 'patient-globex', 'patient-nobody'],
      [`/v1/trace/${foreign.storedEventId}`, foreign.storedEventId, 'no-such-event'],
      [`/v1/groups/${GROUP}/dead-letters/${foreign.deadLetterId}`, foreign.deadLetterId, '0:999999'],
      [`/v1/workflows/instances/${foreign.instanceId}`, foreign.instanceId, 'no-such-instance'],
      [`/v1/jobs/${foreign.jobId}`, foreign.jobId, 'no-such-job'],
    ];
    for (const [url, id, other] of items) {
      const probe = await get(url, acme);
      const absent = await get(missing(url, id, other), acme);
      expect(probe.status, url).toBe(404);
      expect(absent.status, url).toBe(404);
      // The same problem, but for the id it names (at the end of each quoted key).
      const named = (text: string, key: string) => text.replaceAll(`${key.replace(/^\//, '')}\\"`, '<id>"');
      expect(named(probe.text, id), url).toBe(named(absent.text, other));
      // An identity of that tenant (or of every tenant) does see it.
      expect((await get(url, admin)).status, url).toBe(200);
    }
    const cancel = await get(`/v1/jobs/${foreign.jobId}/cancel`, acme, { method: 'POST' });
    expect(cancel.status).toBe(404);
  });

  it('lists only its tenant in jobs, dead letters, traces and a multi-tenant stream read', async () => {
    const own = await get(`/v1/topics/${TOPIC}/search`, acme, {
      method: 'POST',
      body: JSON.stringify({ where: ['data.lastName==L'] }),
    });
    const jobs = JSON.parse((await get('/v1/jobs', acme)).text) as { items: JobView[] };
    expect(jobs.items.map((job) => job.id)).toContain(JSON.parse(own.text).id);
    expect(jobs.items.map((job) => job.params.tenant)).toEqual(jobs.items.map(() => 'acme'));
    expect(JSON.parse((await get('/v1/jobs', admin)).text).items.length).toBeGreaterThan(jobs.items.length);
    const dlq = JSON.parse((await get(`/v1/groups/${GROUP}/dead-letters?limit=1`, acme)).text) as {
      items: unknown[];
      next: string;
    };
    expect(dlq.items).toHaveLength(1);
    const rest = JSON.parse((await get(`/v1/groups/${GROUP}/dead-letters?cursor=${dlq.next}`, acme)).text);
    expect(rest.items).toHaveLength(acmeRecords - 1);
    const summary = JSON.parse((await get(`/v1/groups/${GROUP}/dead-letters/summary`, acme)).text);
    expect(summary.total).toBe(acmeRecords);
    expect((await get('/v1/store/streams/patient-globex', both)).status).toBe(200);
    expect((await get('/v1/store/streams/patient-none', both)).status).toBe(404);
  });

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
      expect(answer.text, path).not.toMatch(SECRET);
    }
    expect((await get(`/v1/topics/${TOPIC}/messages?limit=100`, acme)).text).toContain('ACME-SECRET');
    expect((await get('/v1/store/events?limit=100', acme)).text).toContain('ACME-SECRET');
  });

  it('refuses a probe naming another tenant, and paths for every tenant only, with the same 403', async () => {
    const probes = [
      `/v1/topics/${TOPIC}/messages?tenant=globex`,
      `/v1/topics/${TOPIC}/live?tenant=globex`,
      `/v1/topics/${TOPIC}/export?tenant=globex`,
      '/v1/store/events?tenant=globex',
      '/v1/store/streams?tenant=globex',
      '/v1/workflows/instances?tenant=globex',
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

  it("scopes a replay to the tenant's stored events, and refuses one of another tenant", async () => {
    const started = await get('/v1/store/replays', acme, {
      method: 'POST',
      body: JSON.stringify({ dryRun: true }),
    });
    expect(started.status).toBe(202);
    const job = await temp.node.jobs.settled((JSON.parse(started.text) as JobView).id);
    const ofAcme = await temp.node.store.store.countEvents({ tenantId: 'acme' });
    expect(ofAcme).toBeLessThan(await temp.node.store.store.countEvents({}));
    expect(job).toMatchObject({
      status: 'succeeded',
      params: { tenant: 'acme' },
      counts: { matched: ofAcme },
    });
    expect((await get(`/v1/jobs/${job.id}`, acme)).status).toBe(200);
    const other = await get('/v1/store/replays', acme, {
      method: 'POST',
      body: JSON.stringify({ tenant: 'globex', dryRun: true }),
    });
    expect(other.status).toBe(403);
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
    expect(named.text).toContain('GLOBEX-SECRET');
    expect(named.text).not.toContain('ACME-SECRET');
  });
});
