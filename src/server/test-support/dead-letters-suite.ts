import { expect, it } from 'vitest';
import type { JobView } from '../jobs/job-registry.ts';
import { type ApiFixture, allRecords, request, seedDeadLetters } from './api-fixture.ts';

interface Entry {
  id: string;
  status: string;
  eventType: string;
  failure: { errorType: string; handler: string };
}

/** Dead-letter API tests; the topic must hold 6 records (the topics suite seeds them). */
export function deadLettersSuite(fixture: () => ApiFixture): void {
  const actor = { 'keel-actor': 'ops-grace' };
  const get = (url: string) => request(fixture().node, 'GET', url);
  const post = (url: string, body?: unknown) => request(fixture().node, 'POST', url, body, actor);
  let group: string;
  let base: string;

  it('lists dead letters with filters and pagination, and groups them by error type and handler', async () => {
    const { node, topic } = fixture();
    group = fixture().group('failing');
    base = `/v1/groups/${group}/dead-letters`;
    const records = await allRecords(node, topic);
    await seedDeadLetters(node, group, records.slice(0, 3), 'ValidationError', 'admissions:validate');
    await seedDeadLetters(node, group, records.slice(3, 4), 'TimeoutError', 'admissions:notify');

    const first = (await get(`${base}?limit=3`)).json() as { items: Entry[]; next: string };
    expect(first.items).toHaveLength(3);
    const second = (await get(`${base}?limit=3&cursor=${first.next}`)).json() as {
      items: Entry[];
      next: null;
    };
    expect(second).toMatchObject({ items: [{ failure: { errorType: 'TimeoutError' } }], next: null });
    const filtered = (await get(`${base}?errorType=ValidationError&handler=admissions:validate`)).json() as {
      items: Entry[];
    };
    expect(filtered.items).toHaveLength(3);
    expect(filtered.items[0]).toMatchObject({ status: 'pending', eventType: 'healthcare.patient.created' });

    const summary = (await get(`${base}/summary`)).json();
    expect(summary).toMatchObject({
      total: 4,
      groups: [
        {
          errorType: 'ValidationError',
          handler: 'admissions:validate',
          count: 3,
          sampleId: expect.stringMatching(/^0:\d+$/),
        },
        { errorType: 'TimeoutError', handler: 'admissions:notify', count: 1 },
      ],
    });
  });

  it('inspects one, discards one with a reason, records who and why, and refuses to act on it again', async () => {
    const [entry] = ((await get(`${base}?errorType=TimeoutError`)).json() as { items: Entry[] }).items;
    const detail = (await get(`${base}/${entry?.id}`)).json();
    expect(detail).toMatchObject({
      id: entry?.id,
      errorStack: expect.stringContaining('TimeoutError'),
      actions: [],
    });
    expect(detail).toMatchObject({ message: { headers: { keel_error_type: 'TimeoutError' } } });

    const noReason = await post(`${base}/${entry?.id}/discard`, { reason: '  ' });
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json()).toMatchObject({ errors: [{ path: 'body.reason' }] });
    const discarded = await post(`${base}/${entry?.id}/discard`, { reason: 'duplicate of a later event' });
    expect(discarded.json()).toEqual({ ids: [entry?.id], actor: 'ops-grace' });
    const after = (await get(`${base}/${entry?.id}`)).json();
    expect(after).toMatchObject({
      status: 'discarded',
      reason: 'duplicate of a later event',
      actions: [
        {
          action: 'discarded',
          by: 'ops-grace',
          reason: 'duplicate of a later event',
          at: expect.any(String),
        },
      ],
    });
    const again = await post(`${base}/${entry?.id}/retry`);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ errors: [{ path: 'params.id' }] });
  });

  it('retries one back to its source topic, and answers 404/400 for unknown or malformed ids', async () => {
    const { node, topic } = fixture();
    const [entry] = ((await get(`${base}?errorType=ValidationError&limit=1`)).json() as { items: Entry[] })
      .items;
    const before = (await allRecords(node, topic)).length;
    const retried = await post(`${base}/${entry?.id}/retry`);
    expect(retried.statusCode).toBe(200);
    expect((await allRecords(node, topic)).length).toBe(before + 1);
    expect((await get(`${base}/${entry?.id}`)).json()).toMatchObject({
      status: 'retried',
      actions: [{ action: 'retried', by: 'ops-grace' }],
    });
    expect((await get(`${base}/0:999999`)).json()).toMatchObject({
      status: 404,
      errors: [{ path: 'params.id' }],
    });
    expect((await post(`${base}/0:999999/retry`)).statusCode).toBe(404);
    expect((await get(`${base}/not-an-id`)).json()).toMatchObject({
      status: 400,
      errors: [{ path: 'params.id' }],
    });
    expect((await get(`${base}?status=lost`)).json()).toMatchObject({
      status: 400,
      errors: [{ path: 'query.status' }],
    });
  });

  it('shows a parked chain, refuses to act on an entry behind its head (409), and retrying the head releases it', async () => {
    const { node, topic } = fixture();
    const chainGroup = fixture().group('chain');
    const chainBase = `/v1/groups/${chainGroup}/dead-letters`;
    const [first] = await allRecords(node, topic);
    // Two events of one key: the later one parked behind the earlier.
    await seedDeadLetters(
      node,
      chainGroup,
      [first!, { ...first!, offset: first!.offset + 100n }],
      'TimeoutError',
      'onPatient',
      true,
    );
    const listed = (await get(chainBase)).json() as {
      items: Array<Entry & { parkedBehind: number; parkedBehindEntry: string | null }>;
    };
    const [head, behind] = listed.items;
    expect(head).toMatchObject({ parkedBehind: 1 });
    expect(behind?.parkedBehindEntry).toBe(head?.id);
    const refused = await post(`${chainBase}/${behind?.id}/retry`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ errors: [{ path: 'params.id', rule: 'not_parked' }] });
    expect((await post(`${chainBase}/${behind?.id}/discard`, { reason: 'no' })).statusCode).toBe(409);
    const before = (await allRecords(node, topic)).length;
    expect((await post(`${chainBase}/${head?.id}/retry`)).statusCode).toBe(200);
    expect((await allRecords(node, topic)).length).toBe(before + 2);
  });

  it('retries a filtered set as a job with progress and the ids it moved', async () => {
    const { node, topic } = fixture();
    const before = (await allRecords(node, topic)).length;
    const stale = await post(`${base}/retry`, { errorType: 'ValidationError', expectedCount: 3 });
    expect(stale.statusCode).toBe(409);
    expect(stale.json()).toMatchObject({ errors: [{ path: 'body.expectedCount' }] });
    expect((await allRecords(node, topic)).length).toBe(before);
    const started = await post(`${base}/retry`, { errorType: 'ValidationError', expectedCount: 2 });
    expect(started.statusCode).toBe(202);
    const job = started.json() as JobView;
    expect(job).toMatchObject({
      kind: 'dead-letters.retry',
      actor: 'ops-grace',
      params: { group, errorType: 'ValidationError' },
    });
    await node.jobs.settled(job.id);
    const ended = (await get(`/v1/jobs/${job.id}`)).json() as JobView;
    expect(ended).toMatchObject({
      status: 'succeeded',
      progress: { done: 2, total: 2 },
      counts: { retried: 2 },
    });
    expect(ended.items.retried).toHaveLength(2);
    expect((await allRecords(node, topic)).length).toBe(before + 2);
    expect((await get(`${base}/summary`)).json()).toMatchObject({ total: 0, groups: [] });
    const bad = await post(`${base}/retry`, { errorType: 'ValidationError', colour: 'red' });
    expect(bad.json()).toMatchObject({ status: 400, errors: [{ path: 'body.colour' }] });
  });
}
