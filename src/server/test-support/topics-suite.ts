import { expect, it } from 'vitest';
import type { JobView } from '../jobs/job-registry.ts';
import { type ApiFixture, allRecords, request, seedPatients } from './api-fixture.ts';

interface MessagePage {
  items: {
    partition: number;
    offset: string;
    key: string;
    event: { type: string; data: { patientId: string } };
  }[];
  next: string | null;
  scanned: number;
}

/** Topic API tests, for a fixture on any transport; seeds 6 patient events first. */
export function topicsSuite(fixture: () => ApiFixture): void {
  const get = (url: string) => request(fixture().node, 'GET', url);

  it('lists topics with partitions, config, message count, size in bytes, newest offsets and lag', async () => {
    const { node, topic } = fixture();
    await seedPatients(node, 6);
    const all: { name: string }[] = [];
    let next: string | null = null;
    do {
      const page = (
        await get(`/v1/topics?prefix=${topic}&limit=1${next ? `&cursor=${next}` : ''}`)
      ).json() as {
        items: { name: string }[];
        next: string | null;
      };
      all.push(...page.items);
      next = page.next;
    } while (next);
    const mine = all.find((t) => t.name === topic);
    expect(mine).toMatchObject({
      partitions: 3,
      messages: '6',
      config: { compacted: false },
      lag: '0',
    });
    const { offsets, bytes } = mine as unknown as { offsets: { bytes: number }[]; bytes: number };
    expect(offsets).toHaveLength(3);
    // Six events of a few hundred bytes each, framing on top.
    expect(bytes).toBeGreaterThan(6 * 200);
    expect(offsets.reduce((sum, p) => sum + p.bytes, 0)).toBe(bytes);
  });

  it('describes one topic with per-partition offsets, and answers 404 naming params.topic for an unknown one', async () => {
    const { topic } = fixture();
    const response = await get(`/v1/topics/${topic}`);
    expect(response.statusCode).toBe(200);
    const body = response.json() as { offsets: { latest: string }[]; groups: unknown[] };
    expect(body.offsets.map((p) => BigInt(p.latest)).reduce((a, b) => a + b, 0n)).toBe(6n);
    expect(body.groups).toEqual([]);
    const missing = await get('/v1/topics/no.such.topic');
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(missing.json()).toMatchObject({ errors: [{ path: 'params.topic' }] });
  });

  it('browses every partition newest first with a cursor, and one partition oldest first', async () => {
    const { topic } = fixture();
    const first = (await get(`/v1/topics/${topic}/messages?limit=4`)).json() as MessagePage;
    expect(first.items).toHaveLength(4);
    expect(first.next).not.toBeNull();
    const second = (
      await get(`/v1/topics/${topic}/messages?limit=4&cursor=${first.next}`)
    ).json() as MessagePage;
    const seen = [...first.items, ...second.items];
    expect(second.next).toBeNull();
    expect(new Set(seen.map((m) => m.key)).size).toBe(6);
    // Newest first within each partition.
    for (const [a, b] of seen.slice(1).map((m, i) => [seen[i], m] as const)) {
      if (a?.partition === b.partition) expect(BigInt(a.offset)).toBeGreaterThan(BigInt(b.offset));
    }
    const partition = seen[0]?.partition ?? 0;
    const oldest = (
      await get(`/v1/topics/${topic}/messages?partition=${partition}&order=oldest`)
    ).json() as MessagePage;
    const offsets = oldest.items.map((m) => BigInt(m.offset));
    expect(offsets).toEqual([...offsets].sort((a, b) => (a < b ? -1 : 1)));
    expect(oldest.items.every((m) => m.partition === partition)).toBe(true);
  });

  it('filters by key, type, correlation id, tenant and time range, declaratively', async () => {
    const { topic } = fixture();
    const byKey = (await get(`/v1/topics/${topic}/messages?key=p-3`)).json() as MessagePage;
    expect(byKey.items.map((m) => m.event.data.patientId)).toEqual(['p-3']);
    const even = (
      await get(`/v1/topics/${topic}/messages?correlationId=corr-even&tenant=north`)
    ).json() as MessagePage;
    expect(even.items.map((m) => m.key).sort()).toEqual(['p-0', 'p-2', 'p-4']);
    const typed = (
      await get(`/v1/topics/${topic}/messages?type=healthcare.patient.updated`)
    ).json() as MessagePage;
    expect(typed.items).toEqual([]);
    expect(typed.scanned).toBe(6);
    const where = (
      await get(
        `/v1/topics/${topic}/messages?where=${encodeURIComponent('data.lastName>=L4')}&where=data.firstName==Ada`,
      )
    ).json() as MessagePage;
    expect(where.items.map((m) => m.key).sort()).toEqual(['p-4', 'p-5']);
    const cel = (
      await get(
        `/v1/topics/${topic}/messages?cel=${encodeURIComponent('data.lastName in ["L1", "L3"] || (event.tenantid == "north" && key == "p-0")')}`,
      )
    ).json() as MessagePage;
    expect(cel.items.map((m) => m.key).sort()).toEqual(['p-0', 'p-1', 'p-3']);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const none = (await get(`/v1/topics/${topic}/messages?since=${future}`)).json() as MessagePage;
    expect(none.items).toEqual([]);
    const bounded = (await get(`/v1/topics/${topic}/messages?type=nothing&maxScan=2`)).json() as MessagePage;
    expect(bounded.scanned).toBe(2);
    expect(bounded.next).not.toBeNull();
  });

  it('answers bad browse input with problem+json naming the field', async () => {
    const { topic } = fixture();
    const cases: [string, number, string][] = [
      [`/v1/topics/${topic}/messages?partition=99`, 422, 'query.partition'],
      [`/v1/topics/${topic}/messages?limit=100000`, 400, 'query.limit'],
      [`/v1/topics/${topic}/messages?order=sideways`, 400, 'query.order'],
      [`/v1/topics/${topic}/messages?from=-1`, 400, 'query.from'],
      [`/v1/topics/${topic}/messages?since=yesterday`, 400, 'query.since'],
      [
        `/v1/topics/${topic}/messages?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z`,
        422,
        'query.until',
      ],
      [`/v1/topics/${topic}/messages?filter=process.exit()`, 400, 'query.filter'],
      [`/v1/topics/${topic}/messages?where=data.lastName`, 400, 'query.where'],
      [`/v1/topics/${topic}/messages?cel=${encodeURIComponent('data.lastName ==')}`, 400, 'query.cel'],
      [`/v1/topics/${topic}/messages?cel=${'x'.repeat(2_001)}`, 400, 'query.cel'],
    ];
    for (const [url, status, path] of cases) {
      const response = await get(url);
      expect(response.statusCode, url).toBe(status);
      expect(response.json(), url).toMatchObject({
        status,
        errors: expect.arrayContaining([expect.objectContaining({ path })]),
      });
    }
  });

  it('shows one message with headers, the decoded CloudEvent and its raw bytes', async () => {
    const { node, topic } = fixture();
    const [record] = (await allRecords(node, topic)).filter((r) => r.key === 'p-1');
    const url = `/v1/topics/${topic}/partitions/${record?.partition}/offsets/${record?.offset}`;
    const body = (await get(url)).json() as {
      key: string;
      headers: Record<string, string>;
      event: { type: string; data: { patientId: string } };
      value: string;
    };
    expect(body.key).toBe('p-1');
    expect(body.headers.ce_type).toBe('healthcare.patient.created');
    expect(body.event).toMatchObject({ type: 'healthcare.patient.created', data: { patientId: 'p-1' } });
    expect(JSON.parse(Buffer.from(body.value, 'base64').toString('utf8'))).toMatchObject({
      patientId: 'p-1',
    });
    const beyond = await get(`/v1/topics/${topic}/partitions/${record?.partition}/offsets/999999`);
    expect(beyond.statusCode).toBe(404);
    expect(beyond.json()).toMatchObject({ errors: [{ path: 'params.offset' }] });
    const noPartition = await get(`/v1/topics/${topic}/partitions/7/offsets/0`);
    expect(noPartition.json()).toMatchObject({ status: 404, errors: [{ path: 'params.partition' }] });
  });

  it('searches a whole topic as a job, within its bounds, listing where the matches are', async () => {
    const { node, topic } = fixture();
    const search = async (body: unknown) => {
      const response = await request(node, 'POST', `/v1/topics/${topic}/search`, body, {
        'keel-actor': 'ops-ada',
      });
      expect(response.statusCode, response.body).toBe(202);
      return node.jobs.settled((response.json() as JobView).id);
    };
    const all = await search({ where: 'data.lastName>=L4' });
    expect(all).toMatchObject({
      kind: 'topics.search',
      status: 'succeeded',
      actor: 'ops-ada',
      counts: { scanned: 6, matched: 2 },
    });
    expect(all.progress).toEqual({ done: 6, total: 6 });
    // Conditions a transport can check where it keeps the records find the same matches.
    const exact = await search({ where: ['data.lastName==L4', 'data.firstName~=Ad'] });
    expect(exact.counts).toMatchObject({ scanned: 6, matched: 1 });
    const oldest = (
      await get(`/v1/topics/${topic}/messages?order=oldest&where=data.lastName==L5&key=p-5`)
    ).json() as MessagePage;
    expect(oldest.items.map((m) => m.key)).toEqual(['p-5']);
    const keys = [];
    for (const where of all.items.matched ?? []) {
      const [partition, offset] = where.split(':');
      keys.push(
        (
          (await get(`/v1/topics/${topic}/partitions/${partition}/offsets/${offset}`)).json() as {
            key: string;
          }
        ).key,
      );
    }
    expect(keys.sort()).toEqual(['p-4', 'p-5']);
    expect(await search({ key: 'p-1', maxMatches: 1 })).toMatchObject({ counts: { matched: 1 } });
    expect(await search({ type: 'nothing', maxScan: 3 })).toMatchObject({
      counts: { scanned: 3 },
      progress: { total: 3 },
    });

    const bad: [string, unknown, number, string][] = [
      [topic, { where: 'data.lastName' }, 400, 'body.where'],
      [topic, { maxScan: 0 }, 400, 'body.maxScan'],
      [topic, { since: '2026-01-02T00:00:00Z', until: '2026-01-01T00:00:00Z' }, 422, 'body.until'],
      [topic, { script: 'return true' }, 400, 'body.script'],
      ['no.such.topic', {}, 404, 'params.topic'],
    ];
    for (const [name, body, status, path] of bad) {
      const response = await request(node, 'POST', `/v1/topics/${name}/search`, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(status);
      expect(response.json()).toMatchObject({
        errors: expect.arrayContaining([expect.objectContaining({ path })]),
      });
    }
  });
}
