import { beforeAll, expect, it } from 'vitest';
import { PatientCreated, PatientUpdated } from '../../../examples/catalog.ts';
import { createEvent } from '../../events/create-event.ts';
import type { StoredEvent } from '../../store/event-store.ts';
import { createAsyncProjection } from '../../store/projections/async-projection.ts';
import { defineProjection } from '../../store/projections/projection.ts';
import type { JobView } from '../jobs/job-registry.ts';
import type { ApiFixture } from './api-fixture.ts';
import { allRecords, request } from './api-fixture.ts';

/** A projection counting patients per last name: the node of the store suite holds its definition. */
export const patientCounts = defineProjection({
  name: 'api_patient_counts',
  types: [PatientCreated.type],
  createTable: (table) => [`CREATE TABLE ${table.name} (last_name TEXT PRIMARY KEY, n INTEGER NOT NULL)`],
  async apply(events, { transaction, table }) {
    const sql =
      table.dialect === 'postgres'
        ? `INSERT INTO ${table.name} (last_name, n) VALUES ($1, 1) ON CONFLICT (last_name) DO UPDATE SET n = ${table.name}.n + 1`
        : `INSERT INTO ${table.name} (last_name, n) VALUES (?, 1) ON CONFLICT (last_name) DO UPDATE SET n = n + 1`;
    for (const e of events) await transaction.query(sql, [(e.event.data as { lastName: string }).lastName]);
  },
});

/** A projection that ran against the store once but whose definition the node does not hold. */
const foreignProjection = defineProjection({
  name: 'api_foreign',
  createTable: (table) => [`CREATE TABLE ${table.name} (id TEXT PRIMARY KEY)`],
  apply: () => {},
});

const source = 'urn:test:store-api';

function created(
  patientId: string,
  lastName: string,
  extra: { correlationId?: string; tenantId?: string } = {},
) {
  return createEvent(
    PatientCreated,
    { patientId, firstName: 'Ada', lastName, dateOfBirth: '1815-12-10' },
    {
      source,
      ...extra,
    },
  );
}

async function settled(fixture: ApiFixture, job: JobView): Promise<JobView> {
  return fixture.node.jobs.settled(job.id);
}

/**
 * The event store routes (streams, a stream, read-all, projections, rebuild and replay jobs) against a
 * node whose store is empty at the start and which holds the `patientCounts` definition.
 */
export function storeSuite(fixture: () => ApiFixture): void {
  const appended: StoredEvent[] = [];
  beforeAll(async () => {
    const { store } = fixture().node.store;
    appended.push(
      ...(await store.append('patient-a', [created('a', 'Lovelace', { correlationId: 'trace-1' })])).events,
    );
    appended.push(
      ...(
        await store.append('patient-a', [
          createEvent(PatientUpdated, { patientId: 'a', changes: { email: 'ada@example.org' } }, { source }),
          createEvent(PatientUpdated, { patientId: 'a', changes: { lastName: 'King' } }, { source }),
        ])
      ).events,
    );
    appended.push(
      ...(await store.append('patient-b', [created('b', 'Byron', { tenantId: 'north' })])).events,
    );
    appended.push(
      ...(await store.append('order/1', [created('o', 'Babbage', { correlationId: 'trace-1' })])).events,
    );
    await store.writeSnapshot({
      streamId: 'patient-a',
      name: 'patient',
      streamVersion: 2,
      stateVersion: 1,
      state: { n: 2 },
    });
  });

  it('lists streams in pages, filtered by tenant, type and prefix', async () => {
    const { node } = fixture();
    const first = await request(node, 'GET', '/v1/store/streams?limit=2');
    expect(first.statusCode).toBe(200);
    expect(first.json().items.map((s: { streamId: string }) => s.streamId)).toEqual(['order/1', 'patient-a']);
    expect(first.json().items[1]).toMatchObject({ tenantId: 'default', version: 3, deletedAt: null });
    const second = await request(node, 'GET', `/v1/store/streams?limit=2&cursor=${first.json().next}`);
    expect(second.json()).toMatchObject({
      items: [{ streamId: 'patient-b', tenantId: 'north' }],
      next: null,
    });

    const ids = async (query: string) =>
      (await request(node, 'GET', `/v1/store/streams?${query}`))
        .json()
        .items.map((s: { streamId: string }) => s.streamId);
    expect(await ids('tenant=north')).toEqual(['patient-b']);
    expect(await ids(`type=${PatientUpdated.type}`)).toEqual(['patient-a']);
    expect(await ids('prefix=patient-')).toEqual(['patient-a', 'patient-b']);
  });

  it("shows a stream's events with versions, the snapshots in force, and pages both ways", async () => {
    const { node } = fixture();
    const answer = await request(node, 'GET', '/v1/store/streams/patient-a?limit=2');
    expect(answer.statusCode).toBe(200);
    const body = answer.json();
    expect(body).toMatchObject({ streamId: 'patient-a', version: 3 });
    expect(body.snapshots).toEqual([
      expect.objectContaining({ name: 'patient', streamVersion: 2, stateVersion: 1, state: { n: 2 } }),
    ]);
    expect(body.items.map((e: { version: number }) => e.version)).toEqual([1, 2]);
    expect(body.items[0].event).toMatchObject({ type: PatientCreated.type, correlationid: 'trace-1' });
    const rest = await request(node, 'GET', `/v1/store/streams/patient-a?limit=2&cursor=${body.next}`);
    expect(rest.json()).toMatchObject({ items: [{ version: 3 }], next: null });

    const newest = await request(node, 'GET', '/v1/store/streams/patient-a?order=newest&limit=1');
    expect(newest.json().items.map((e: { version: number }) => e.version)).toEqual([3]);
    // A stream id with a slash, encoded.
    const order = await request(node, 'GET', '/v1/store/streams/order%2F1');
    expect(order.json()).toMatchObject({ streamId: 'order/1', version: 1, snapshots: [] });
  });

  it('answers 404 for an unknown stream and 400 naming a bad parameter', async () => {
    const { node } = fixture();
    const missing = await request(node, 'GET', '/v1/store/streams/nobody');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().errors[0].path).toBe('params.streamId');
    const bad = await request(node, 'GET', '/v1/store/streams/patient-a?from=0');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].path).toBe('query.from');
    const cursor = await request(node, 'GET', '/v1/store/events?cursor=bm9wZQ');
    expect(cursor.statusCode).toBe(400);
    expect(cursor.json().errors[0].path).toBe('query.cursor');
  });

  it('reads all events in global order with filters, in pages', async () => {
    const { node } = fixture();
    const first = await request(node, 'GET', '/v1/store/events?limit=3');
    expect(first.statusCode).toBe(200);
    const second = await request(node, 'GET', `/v1/store/events?limit=3&cursor=${first.json().next}`);
    const ids = [...first.json().items, ...second.json().items].map(
      (e: { event: { id: string } }) => e.event.id,
    );
    expect(ids).toEqual(appended.map((e) => e.event.id));
    const traced = await request(node, 'GET', '/v1/store/events?correlationId=trace-1');
    expect(traced.json().items.map((e: { streamId: string }) => e.streamId)).toEqual([
      'patient-a',
      'order/1',
    ]);
    const updates = await request(node, 'GET', `/v1/store/events?type=${PatientUpdated.type}&tenant=default`);
    expect(updates.json().items).toHaveLength(2);
  });

  it('filters read-all by subject and data conditions within a bound, never evaluating them', async () => {
    const { node } = fixture();
    const streams = async (query: string) =>
      (await request(node, 'GET', `/v1/store/events?${query}`))
        .json()
        .items.map((e: { streamId: string }) => e.streamId);
    expect(await streams('where=data.lastName=="Byron"')).toEqual(['patient-b']);
    expect(await streams('subject=o')).toEqual(['order/1']);
    expect(await streams('where=data.changes.lastName~=Ki&where=data.patientId==a')).toEqual(['patient-a']);
    // One event looked at: nothing found yet, and a cursor to go on from there.
    const bounded = await request(node, 'GET', '/v1/store/events?where=data.lastName=="Babbage"&maxScan=1');
    expect(bounded.json()).toMatchObject({ items: [], scanned: 1 });
    expect(bounded.json().next).not.toBeNull();
    const rest = await request(
      node,
      'GET',
      `/v1/store/events?where=data.lastName=="Babbage"&cursor=${bounded.json().next}`,
    );
    expect(rest.json().items.map((e: { streamId: string }) => e.streamId)).toEqual(['order/1']);

    const code = await request(node, 'GET', '/v1/store/events?where=data.x==process.exit(1)');
    expect(code.statusCode).toBe(200);
    expect(code.json().items).toEqual([]);
    const broken = await request(node, 'GET', '/v1/store/events?where=data.lastName=');
    expect(broken.statusCode).toBe(400);
    expect(broken.json().errors[0]).toMatchObject({ path: 'query.where', rule: 'filter_syntax' });
    const backwards = await request(
      node,
      'GET',
      '/v1/store/events?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z',
    );
    expect(backwards.statusCode).toBe(422);
    expect(backwards.json().errors[0].path).toBe('query.until');
  });

  it('shows projections with checkpoint, lag and status, and rebuilds one as a job', async () => {
    const { node } = fixture();
    const { store } = node.store;
    const projection = createAsyncProjection({ store, projection: patientCounts, pollIntervalMs: 20 });
    await projection.start();
    await projection.caughtUp();
    await projection.stop();
    const foreign = createAsyncProjection({ store, projection: foreignProjection, pollIntervalMs: 20 });
    await foreign.start();
    await foreign.caughtUp();
    await foreign.stop();

    const view = await request(node, 'GET', '/v1/store/projections/api_patient_counts');
    expect(view.statusCode).toBe(200);
    expect(view.json()).toMatchObject({
      scope: '*',
      generation: 1,
      lag: 0,
      status: 'caught-up',
      rebuildable: true,
    });
    await store.append('patient-c', [created('c', 'Somerville')]);
    const behind = await request(node, 'GET', '/v1/store/projections/api_patient_counts');
    expect(behind.json()).toMatchObject({ lag: 1, status: 'behind' });
    const list = await request(node, 'GET', '/v1/store/projections');
    expect(list.json().items.map((p: { name: string }) => p.name)).toEqual([
      'api_foreign',
      'api_patient_counts',
    ]);

    const started = await request(node, 'POST', '/v1/store/projections/api_patient_counts/rebuild');
    expect(started.statusCode).toBe(202);
    const job = await settled(fixture(), started.json());
    expect(job).toMatchObject({ status: 'succeeded', kind: 'projections.rebuild', counts: { applied: 4 } });
    expect(job.progress).toEqual({ done: 4, total: 4 });
    const after = await request(node, 'GET', '/v1/store/projections/api_patient_counts');
    expect(after.json()).toMatchObject({ generation: 2, lag: 0, status: 'caught-up', rebuild: null });

    const foreignRebuild = await request(node, 'POST', '/v1/store/projections/api_foreign/rebuild');
    expect(foreignRebuild.statusCode).toBe(409);
    expect(foreignRebuild.json().errors[0].path).toBe('params.name');
    expect((await request(node, 'POST', '/v1/store/projections/nothing/rebuild')).statusCode).toBe(404);
  });

  it('replays a selection: a dry run counts, a replay republishes to a topic, and a cancel stops it', async () => {
    const { node, topic } = fixture();
    const dry = await request(node, 'POST', '/v1/store/replays', { correlationId: 'trace-1', dryRun: true });
    expect(dry.statusCode).toBe(202);
    expect(await settled(fixture(), dry.json())).toMatchObject({
      status: 'succeeded',
      counts: { matched: 2, replayed: 0 },
    });

    const before = (await allRecords(node, topic)).length;
    const run = await request(node, 'POST', '/v1/store/replays', {
      correlationId: 'trace-1',
      toTopic: topic,
    });
    expect(await settled(fixture(), run.json())).toMatchObject({
      status: 'succeeded',
      counts: { matched: 2, replayed: 2 },
      progress: { done: 2, total: 2 },
    });
    const records = await allRecords(node, topic);
    expect(records.length).toBe(before + 2);

    const changed = await request(node, 'POST', '/v1/store/replays', {
      correlationId: 'trace-1',
      toTopic: topic,
      expectedCount: 3,
    });
    expect(changed.statusCode).toBe(409);
    expect(changed.json().errors[0].path).toBe('body.expectedCount');
    expect((await allRecords(node, topic)).length).toBe(before + 2);

    const missing = await request(node, 'POST', '/v1/store/replays', { toTopic: 'no.such.topic' });
    expect(missing.statusCode).toBe(422);
    expect(missing.json().errors[0].path).toBe('body.toTopic');
    const typo = await request(node, 'POST', '/v1/store/replays', { tenantt: 'x' });
    expect(typo.statusCode).toBe(400);
    expect(typo.json().errors[0].path).toBe('body.tenantt');

    // Two events a second: the cancel arrives while it still has events to go.
    const slow = await request(node, 'POST', '/v1/store/replays', { toTopic: topic, ratePerSecond: 2 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await request(node, 'POST', `/v1/jobs/${slow.json().id}/cancel`);
    const cancelled = await settled(fixture(), slow.json());
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.counts.replayed).toBeLessThan(cancelled.counts.matched ?? 0);
    expect((await allRecords(node, topic)).length).toBe(before + 2 + (cancelled.counts.replayed ?? 0));
  });
}
