import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createPublisher } from '../../bus/publisher.ts';
import { createCatalog } from '../../events/catalog.ts';
import { createEvent } from '../../events/create-event.ts';
import { defineEvent } from '../../events/define-event.ts';
import { defineTopic } from '../../events/define-topic.ts';
import { fromRecord } from '../../events/kafka-binding.ts';
import { createEmbeddedTransport } from '../../transport/embedded/embedded-transport.ts';
import { archiveToFile } from '../archive/archive-to-file.ts';
import { createCommandHandler } from '../deciders/command-handler.ts';
import { ProjectionRebuildAbortedError } from '../errors.ts';
import type { EventStore, OutboxEntry, StoredEvent } from '../event-store.ts';
import { createOutboxRelay } from '../outbox/outbox-relay.ts';
import { createAsyncProjection, generationTable } from '../projections/async-projection.ts';
import { inlineProjection } from '../projections/inline-projection.ts';
import { replay } from '../replay/replay.ts';
import {
  idsOf,
  readEverything,
  rejectionOf,
  sleep,
  streamOrderViolations,
  testEvent,
  testEvents,
  waitFor,
} from './contract-helpers.ts';
import type { EventStoreHarness } from './event-store-contract.ts';
import {
  type PatientCommand,
  type PatientEvent,
  type PatientState,
  patientDecider,
  wardCensus,
} from './test-domain.ts';

/** Rows of a projection read through its name (an async one's view, an inline one's table), by patient id. */
async function census(
  store: EventStore,
  name = 'ward_census',
): Promise<{ patient_id: string; ward: string | null; tenant_id: string; events: number }[]> {
  const rows = await store.transaction((tx) =>
    tx.query<{ patient_id: string; ward: string | null; tenant_id: string; events: number | bigint }>(
      `SELECT patient_id, ward, tenant_id, events FROM ${tx.table(name)} ORDER BY patient_id`,
    ),
  );
  return rows.map((r) => ({ ...r, events: Number(r.events) }));
}

const admitted = (patientId: string, ward: string, extra = {}) =>
  testEvent('contract.patient.admitted', { patientId, ward }, extra);
const moved = (patientId: string, ward: string, extra = {}) =>
  testEvent('contract.patient.moved', { patientId, ward }, extra);

/** An embedded transport on a temp file with the topics given, and its cleanup. */
async function scratchTransport(topics: { name: string; partitions: number }[]) {
  const dir = await mkdtemp(join(tmpdir(), 'keel-store-bus-'));
  const transport = createEmbeddedTransport({
    path: join(dir, 'bus.db'),
    synchronous: 'normal',
    maintenanceIntervalMs: 0,
  });
  await transport.ensureTopics(topics);
  return {
    transport,
    /** Every record of a topic, as (partition, event) in offset order per partition. */
    async records(topic: string) {
      const described = await transport.describeTopic(topic);
      const out: { partition: number; id: string; streamKey: string | null; data: unknown }[] = [];
      for (let partition = 0; partition < (described?.partitions ?? 0); partition++) {
        for (const record of await transport.read(topic, partition, 0n, 100_000)) {
          const event = fromRecord(record);
          out.push({ partition, id: event.id, streamKey: record.key, data: event.data });
        }
      }
      return out;
    },
    async done() {
      await transport.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The event-sourcing contract: what the store offers on top of append and read — deciders and their
 * command handler, snapshots, tombstones, bounded reads, projections, the outbox and its relay, replay
 * and archiving — each on every adapter. Bounded in time: the whole suite takes seconds.
 */
export function describeEventSourcingContract(name: string, setup: () => Promise<EventStoreHarness>): void {
  describe(`event sourcing contract: ${name}`, () => {
    let h: EventStoreHarness;
    let store: EventStore;
    const cleanups: (() => Promise<void>)[] = [];

    beforeEach(async () => {
      h = await setup();
      store = h.store;
    });
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
      await h.cleanup();
    });

    const handlerOn = (target: EventStore, snapshot?: { version: number; every?: number }) =>
      createCommandHandler<PatientCommand, PatientEvent, PatientState>({
        store: target,
        decider: patientDecider,
        aggregateType: 'patient',
        streamId: (command) => `patient-${command.patientId}`,
        source: '/contract/patients',
        snapshot,
      });

    describe('deciders and the command handler', () => {
      it('loads, decides and appends expecting the loaded version; a refused command writes nothing', async () => {
        const patients = handlerOn(store);
        const first = await patients.handle({ type: 'admit', patientId: 'p1', ward: 'A' });
        expect(first).toMatchObject({ streamId: 'patient-p1', version: 1, attempts: 1 });
        expect(first.state).toEqual({ status: 'admitted', ward: 'A', events: 1 });
        expect(first.events[0]!.event).toMatchObject({
          type: 'contract.patient.admitted',
          source: '/contract/patients',
          subject: 'patient-p1',
          data: { patientId: 'p1', ward: 'A' },
        });
        const moved = await patients.handle(
          { type: 'move', patientId: 'p1', ward: 'B' },
          { correlationId: 'corr-7', causationId: 'cause-1' },
        );
        expect(moved.version).toBe(2);
        expect(moved.events[0]!.event).toMatchObject({ correlationid: 'corr-7', causationid: 'cause-1' });
        // No event decided: nothing appended.
        expect((await patients.handle({ type: 'move', patientId: 'p1', ward: 'B' })).events).toEqual([]);
        await expect(patients.handle({ type: 'admit', patientId: 'p1', ward: 'C' })).rejects.toThrow(
          'already admitted',
        );
        expect((await store.readStream('patient-p1')).streamVersion).toBe(2);
        expect(await patients.load('patient-p1')).toEqual({
          state: { status: 'admitted', ward: 'B', events: 2 },
          version: 2,
          snapshotVersion: undefined,
        });
      });

      it('concurrent commands on one stream all land through bounded, jittered retries; a caller’s own expected version is not retried', async () => {
        await handlerOn(store).handle({ type: 'admit', patientId: 'p2', ward: 'W0' });
        const writers = await Promise.all(Array.from({ length: 6 }, () => h.writer()));
        const results = await Promise.all(
          writers.map((w, i) =>
            createCommandHandler<PatientCommand, PatientEvent, PatientState>({
              store: w,
              decider: patientDecider,
              aggregateType: 'patient',
              streamId: (command) => `patient-${command.patientId}`,
              source: '/contract/patients',
              retry: { maxAttempts: 20, initialDelayMs: 1, maxDelayMs: 20 },
            }).handle({ type: 'move', patientId: 'p2', ward: `W${i + 1}` }),
          ),
        );
        expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7]);
        const page = await store.readStream('patient-p2');
        expect(page.events.map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6, 7]);
        await expect(
          handlerOn(store).handle({ type: 'move', patientId: 'p2', ward: 'X' }, { expectedVersion: 3 }),
        ).rejects.toMatchObject({ code: 'KEEL_STORE_WRONG_EXPECTED_VERSION', expected: 3, actual: 7 });
        let interference = 0;
        // Every attempt conflicts: another writer moves the stream between the load and the append.
        const contended: EventStore = Object.assign(Object.create(store) as EventStore, {
          append: async (...args: Parameters<EventStore['append']>) => {
            await store.append('patient-p3', [moved('p3', `Z${++interference}`)]);
            return store.append(...args);
          },
        });
        const bounded = createCommandHandler<PatientCommand, PatientEvent, PatientState>({
          store: contended,
          decider: patientDecider,
          aggregateType: 'patient',
          streamId: () => 'patient-p3',
          source: '/contract/patients',
          retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 },
        });
        await store.append('patient-p3', [admitted('p3', 'A')]);
        const refused = await rejectionOf(bounded.handle({ type: 'move', patientId: 'p3', ward: 'B' }));
        expect(interference).toBe(3);
        expect(refused.code).toBe('KEEL_STORE_WRONG_EXPECTED_VERSION');
      });

      it('snapshots every N events; loading is the latest snapshot plus its tail; an older state version is ignored', async () => {
        const v1 = handlerOn(store, { version: 1, every: 5 });
        await v1.handle({ type: 'admit', patientId: 'p4', ward: 'W0' });
        for (let i = 1; i <= 12; i++) await v1.handle({ type: 'move', patientId: 'p4', ward: `W${i}` });
        // 13 events: snapshots at 5 and 10, the latest kept.
        const snapshot = await store.readSnapshot('patient-p4', 'patient');
        expect(snapshot).toMatchObject({
          streamId: 'patient-p4',
          name: 'patient',
          streamVersion: 10,
          stateVersion: 1,
          state: { status: 'admitted', ward: 'W9', events: 10 },
          tenantId: 'default',
        });
        const loaded = await v1.load('patient-p4');
        expect(loaded).toEqual({
          state: { status: 'admitted', ward: 'W12', events: 13 },
          version: 13,
          snapshotVersion: 10,
        });
        // A new state shape: the version-1 snapshot is ignored and the state folded from the first event.
        const v2 = handlerOn(store, { version: 2, every: 5 });
        expect(await v2.load('patient-p4')).toEqual({ ...loaded, snapshotVersion: undefined });
        const next = await v2.handle({ type: 'move', patientId: 'p4', ward: 'W13' });
        expect(next.version).toBe(14);
        await v2.handle({ type: 'move', patientId: 'p4', ward: 'W14' });
        expect(await store.readSnapshot('patient-p4', 'patient')).toMatchObject({
          streamVersion: 15,
          stateVersion: 2,
        });
        expect((await v2.load('patient-p4')).snapshotVersion).toBe(15);
      });

      it('deciders see upcast events: old versions stay stored as written', async () => {
        const admittedV1 = defineEvent({
          type: 'contract.patient.admitted',
          version: 1,
          schema: z.object({ patientId: z.string(), room: z.string() }),
        });
        const admittedV2 = defineEvent({
          type: 'contract.patient.admitted',
          version: 2,
          schema: z.object({ patientId: z.string(), ward: z.string() }),
          upcasters: [
            {
              fromVersion: 1,
              upcast: (data) => {
                const { patientId, room } = data as { patientId: string; room: string };
                return { patientId, ward: room.split('-')[0] };
              },
            },
          ],
        });
        await store.append('patient-p5', [
          createEvent(admittedV1, { patientId: 'p5', room: 'C-12' }, { source: '/contract' }),
        ]);
        const upcasting = await h.connect({ catalog: createCatalog({ topics: [], events: [admittedV2] }) });
        const patients = handlerOn(upcasting);
        expect((await patients.load('patient-p5')).state).toEqual({
          status: 'admitted',
          ward: 'C',
          events: 1,
        });
        const result = await patients.handle({ type: 'move', patientId: 'p5', ward: 'D' });
        expect(result.state.ward).toBe('D');
        expect((await store.readStream('patient-p5')).events[0]!.event.data).toEqual({
          patientId: 'p5',
          room: 'C-12',
        });
      });

      it('a tenant’s commands write its stream, events and snapshots, invisible to other tenants', async () => {
        const patients = handlerOn(store, { version: 1, every: 2 });
        await patients.handle({ type: 'admit', patientId: 'p6', ward: 'A' }, { tenantId: 'acme' });
        const second = await patients.handle(
          { type: 'move', patientId: 'p6', ward: 'B' },
          { tenantId: 'acme' },
        );
        expect(second.events[0]).toMatchObject({ tenantId: 'acme', event: { tenantid: 'acme' } });
        expect(await store.forTenant('acme').readSnapshot('patient-p6', 'patient')).toMatchObject({
          tenantId: 'acme',
          streamVersion: 2,
        });
        expect(await store.forTenant('globex').readSnapshot('patient-p6', 'patient')).toBeUndefined();
        await expect(
          patients.handle({ type: 'move', patientId: 'p6', ward: 'C' }, { tenantId: 'globex' }),
        ).rejects.toThrow('not admitted');
        await expect(
          store.forTenant('globex').writeSnapshot({
            streamId: 'patient-p6',
            name: 'patient',
            streamVersion: 2,
            stateVersion: 1,
            state: {},
          }),
        ).resolves.toBe(false);
      });
    });

    describe('snapshots', () => {
      it('keep the newest, refuse a version the stream has not reached, and start a stream read after them', async () => {
        await store.append('snap', testEvents(6));
        const write = (streamVersion: number, stateVersion = 1) =>
          store.writeSnapshot({
            streamId: 'snap',
            name: 'counter',
            streamVersion,
            stateVersion,
            state: { n: streamVersion },
          });
        expect(await write(4)).toBe(true);
        expect(await write(3)).toBe(false);
        expect(await write(7)).toBe(false);
        expect(
          await store.writeSnapshot({
            streamId: 'nobody',
            name: 'x',
            streamVersion: 1,
            stateVersion: 1,
            state: 1,
          }),
        ).toBe(false);
        expect(await store.readSnapshot('snap', 'counter')).toMatchObject({
          streamVersion: 4,
          state: { n: 4 },
        });
        const page = await store.readStream('snap', { snapshot: { name: 'counter', stateVersion: 1 } });
        expect(page.snapshot).toMatchObject({ streamVersion: 4, stateVersion: 1, state: { n: 4 } });
        expect(page.events.map((e) => e.version)).toEqual([5, 6]);
        const otherShape = await store.readStream('snap', { snapshot: { name: 'counter', stateVersion: 2 } });
        expect(otherShape.snapshot).toBeUndefined();
        expect(otherShape.events.map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6]);
        expect(await write(6, 2)).toBe(true);
        expect(
          (await store.readStream('snap', { snapshot: { name: 'counter', stateVersion: 2 } })).events,
        ).toEqual([]);
      });
    });

    describe('tombstones', () => {
      it('a deleted stream reads as deleted and refuses appends; its events stay in the global order', async () => {
        const appended = await store.append('closed', testEvents(3));
        await store.writeSnapshot({
          streamId: 'closed',
          name: 'n',
          streamVersion: 3,
          stateVersion: 1,
          state: 1,
        });
        await expect(store.deleteStream('closed', { expectedVersion: 2 })).rejects.toMatchObject({
          code: 'KEEL_STORE_WRONG_EXPECTED_VERSION',
          actual: 3,
        });
        const deletion = await store.deleteStream('closed', { expectedVersion: 3 });
        expect(deletion).toMatchObject({ streamId: 'closed', version: 3 });
        expect(await store.deleteStream('closed')).toEqual(deletion);
        const read = await rejectionOf(store.readStream('closed'));
        expect(read).toMatchObject({ code: 'KEEL_STORE_STREAM_DELETED', streamId: 'closed', version: 3 });
        for (const expectedVersion of ['any', 'stream_exists', 3] as const) {
          await expect(store.append('closed', testEvents(1), { expectedVersion })).rejects.toMatchObject({
            code: 'KEEL_STORE_STREAM_DELETED',
          });
        }
        await expect(store.append('closed', [], { expectedVersion: 'any' })).rejects.toMatchObject({
          code: 'KEEL_STORE_STREAM_DELETED',
        });
        expect(await store.readSnapshot('closed', 'n')).toBeUndefined();
        expect(idsOf(await readEverything(store))).toEqual(idsOf(appended.events));
        await expect(store.deleteStream('never-written')).rejects.toMatchObject({ actual: 0 });
      });

      it("appending with expectedVersion 'no_stream' re-creates it: versions continue, the old ones stay hidden", async () => {
        await store.append('reborn', testEvents(2));
        await store.deleteStream('reborn');
        const again = await store.append('reborn', testEvents(2), { expectedVersion: 'no_stream' });
        expect(again.events.map((e) => e.version)).toEqual([3, 4]);
        expect(again.nextExpectedVersion).toBe(4);
        const page = await store.readStream('reborn');
        expect(page.events.map((e) => e.version)).toEqual([3, 4]);
        expect(page.streamVersion).toBe(4);
        const back = await store.readStream('reborn', { direction: 'backwards', maxCount: 2 });
        expect(back.events.map((e) => e.version)).toEqual([4, 3]);
        expect(back.next).toBeUndefined();
        expect(
          (await store.append('reborn', testEvents(1), { expectedVersion: 4 })).nextExpectedVersion,
        ).toBe(5);
        expect(await readEverything(store)).toHaveLength(5);
        // A command handler sees the re-created stream from its initial state.
        const loaded = await handlerOn(store).load('reborn');
        expect(loaded.version).toBe(5);
      });

      it("another tenant's stream cannot be deleted (it is not there for that tenant)", async () => {
        await store.forTenant('acme').append('acme-1', testEvents(1));
        await expect(store.forTenant('globex').deleteStream('acme-1')).rejects.toMatchObject({
          code: 'KEEL_STORE_WRONG_EXPECTED_VERSION',
          actual: 0,
        });
        expect((await store.readStream('acme-1')).streamVersion).toBe(1);
      });
    });

    describe('bounded and sparse reads', () => {
      it('headCheckpoint and endAt bound a read to what exists now; countEvents counts what a read returns', async () => {
        expect(await store.headCheckpoint()).toBeUndefined();
        const before = await store.append('a', testEvents(3));
        const head = await store.headCheckpoint();
        expect(head).toBe(before.events[2]!.checkpoint);
        await store.append('b', testEvents(2, 'contract.other'));
        expect(idsOf(await readEverything(store, { endAt: head }, 2))).toEqual(idsOf(before.events));
        expect(await store.countEvents()).toBe(5);
        expect(await store.countEvents({ endAt: head })).toBe(3);
        expect(await store.countEvents({ after: before.events[0]!.checkpoint, endAt: head })).toBe(2);
        expect(await store.countEvents({ types: ['contract.other'] })).toBe(2);
        expect(await store.forTenant('acme').countEvents()).toBe(0);
        const later = await readEverything(store, { after: head });
        expect(later.map((e) => e.streamId)).toEqual(['b', 'b']);
      });

      it('a filtered read resumes past the events its filter skipped, and so does a subscription', async () => {
        const rare = await store.append('mixed', [testEvent('contract.rare'), ...testEvents(20)]);
        const page = await store.readAll({ types: ['contract.rare'] });
        expect(idsOf(page.events)).toEqual([rare.events[0]!.event.id]);
        // `next` lies past the 20 events the filter skipped: the next read starts there.
        expect(page.next).toBe(await store.headCheckpoint());
        const none = await store.readAll({ types: ['contract.rare'], after: page.next });
        expect(none).toEqual({ events: [], next: page.next, hasMore: false });
        const got: StoredEvent[] = [];
        const subscription = store.subscribe({
          types: ['contract.rare'],
          handler: (e) => void got.push(e),
          pollIntervalMs: 5,
        });
        await waitFor(() => got.length === 1 && subscription.checkpoint === page.next);
        await store.append('mixed', testEvents(5));
        const head = await store.headCheckpoint();
        await waitFor(() => subscription.checkpoint === head);
        await subscription.stop();
        expect(got).toHaveLength(1);
      });

      it("subscribe with startFrom 'latest' sees only events committed after it started", async () => {
        await store.append('old', testEvents(3));
        const got: StoredEvent[] = [];
        const subscription = store.subscribe({
          startFrom: 'latest',
          handler: (e) => void got.push(e),
          pollIntervalMs: 5,
        });
        await waitFor(() => subscription.checkpoint !== undefined);
        const fresh = await store.append('new', testEvents(2));
        await waitFor(() => got.length === 2);
        await sleep(30);
        await subscription.stop();
        expect(idsOf(got)).toEqual(idsOf(fresh.events));
      });
    });

    describe('projections', () => {
      it('inline: written in the append’s transaction; a failing projection rolls the append back', async () => {
        let fail = false;
        const projection = inlineProjection(
          wardCensus('inline_census', () => {
            if (fail) throw new Error('projection refused');
          }),
        );
        const projected = await h.connect({ onAppend: [projection.hook] });
        await projection.setup(projected);
        await projection.setup(projected);
        await projected.append('patient-i1', [admitted('i1', 'A'), moved('i1', 'B')]);
        await projected.append('other', testEvents(2));
        expect(await census(projected, 'inline_census')).toEqual([
          { patient_id: 'i1', ward: 'B', tenant_id: 'default', events: 2 },
        ]);
        fail = true;
        await expect(projected.append('patient-i2', [admitted('i2', 'C')])).rejects.toThrow(
          'projection refused',
        );
        expect((await store.readStream('patient-i2')).streamVersion).toBe(0);
        fail = false;
        expect(await census(projected, 'inline_census')).toHaveLength(1);
      });

      it('async: applies in order with its checkpoint in the same transaction; a failed batch rolls back and is retried; a restart resumes without applying twice', async () => {
        let failures = 1;
        const projection = wardCensus('async_census', () => {
          if (failures > 0) {
            failures--;
            throw new Error('transient');
          }
        });
        for (let i = 0; i < 5; i++)
          await store.append(`patient-a${i}`, [admitted(`a${i}`, 'A'), moved(`a${i}`, 'B')]);
        const first = createAsyncProjection({
          store,
          projection,
          batchSize: 3,
          pollIntervalMs: 5,
          retry: { initialDelayMs: 1, maxDelayMs: 5 },
        });
        cleanups.push(() => first.stop());
        await first.start();
        await first.caughtUp();
        expect(await census(store, 'async_census')).toEqual(
          Array.from({ length: 5 }, (_, i) => ({
            patient_id: `a${i}`,
            ward: 'B',
            tenant_id: 'default',
            events: 2,
          })),
        );
        expect(first.checkpoint).toBe(await store.headCheckpoint());
        await first.stop();
        await store.append('patient-a0', [moved('a0', 'C')]);
        // Two runners: the checkpoint moves only from the value a runner read, so no batch applies twice.
        const again = createAsyncProjection({ store, projection, batchSize: 2, pollIntervalMs: 5 });
        const twin = createAsyncProjection({ store, projection, batchSize: 2, pollIntervalMs: 5 });
        cleanups.push(
          () => again.stop(),
          () => twin.stop(),
        );
        await Promise.all([again.start(), twin.start()]);
        await Promise.all([again.caughtUp(), twin.caughtUp()]);
        const rows = await census(store, 'async_census');
        expect(rows[0]).toEqual({ patient_id: 'a0', ward: 'C', tenant_id: 'default', events: 3 });
        expect(rows.slice(1).every((r) => r.events === 2)).toBe(true);
      });

      it('rebuild: fills a shadow table from zero while readers keep the old one, swaps in one transaction, reports progress', async () => {
        let slow = false;
        const tables: string[] = [];
        const projection = wardCensus('rebuilt_census', async (table) => {
          tables.push(table);
          if (slow && table.endsWith('__g2')) await sleep(15);
        });
        for (let i = 0; i < 40; i++) await store.append(`patient-r${i}`, [admitted(`r${i}`, 'A')]);
        const live = createAsyncProjection({ store, projection, batchSize: 10, pollIntervalMs: 5 });
        cleanups.push(() => live.stop());
        await live.start();
        await live.caughtUp();
        expect(live.generation).toBe(1);
        slow = true;
        const progress: { processed: number; total: number }[] = [];
        const rebuilding = live.rebuild({ onProgress: (p) => progress.push({ ...p }) });
        // While the shadow fills, readers read the old table, complete, through the view.
        await waitFor(() => progress.length >= 2);
        const shadowRows = await census(store, generationTable('rebuilt_census', 2));
        expect(shadowRows.length).toBeLessThan(40);
        expect(await census(store, 'rebuilt_census')).toHaveLength(40);
        const report = await rebuilding;
        expect(report).toMatchObject({ generation: 2, processed: 40, total: 40 });
        expect(progress[0]).toEqual({ processed: 0, total: 40 });
        expect(progress.at(-1)).toEqual({ processed: 40, total: 40 });
        expect(progress.map((p) => p.processed)).toEqual([0, 10, 20, 30, 40]);
        // The live loop carries on on the new table from the rebuild's checkpoint.
        await store.append('patient-r40', [admitted('r40', 'Z')]);
        await live.caughtUp();
        expect(live.generation).toBe(2);
        const rows = await census(store, 'rebuilt_census');
        expect(rows).toHaveLength(41);
        expect(rows.every((r) => r.events === 1)).toBe(true);
        expect(tables.filter((t) => t.endsWith('__g2')).length).toBeGreaterThanOrEqual(5);
        // The old generation's table is gone; the view reads generation 2.
        const exists = await store.transaction(async (tx) => {
          const old =
            tx.dialect === 'postgres'
              ? await tx.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [
                  tx.table('rebuilt_census__g1'),
                ])
              : await tx.query<{ t: string }>(
                  "SELECT name AS t FROM sqlite_master WHERE name = 'rebuilt_census__g1'",
                );
          return old.length > 0 && old[0]!.t !== null;
        });
        expect(exists).toBe(false);
      });
    });

    describe('aborted rebuild', () => {
      it('rebuild: a signal stops it after the batch in flight, drops the shadow table and leaves the live table serving', async () => {
        const controller = new AbortController();
        let shadowBatches = 0;
        const projection = wardCensus('aborted_census', async (table) => {
          // The second batch into the shadow table asks to stop: the rebuild ends before a third.
          if (table.endsWith('__g2') && ++shadowBatches === 2) controller.abort();
        });
        for (let i = 0; i < 30; i++) await store.append(`patient-x${i}`, [admitted(`x${i}`, 'A')]);
        const live = createAsyncProjection({ store, projection, batchSize: 10, pollIntervalMs: 5 });
        cleanups.push(() => live.stop());
        await live.start();
        await live.caughtUp();
        const error = await live.rebuild({ signal: controller.signal }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ProjectionRebuildAbortedError);
        expect(error).toMatchObject({ projection: 'aborted_census', processed: 20 });
        expect(shadowBatches).toBe(2);
        expect(await census(store, 'aborted_census')).toHaveLength(30);
        const shadowLeft = await store.transaction(async (tx) => {
          const rows =
            tx.dialect === 'postgres'
              ? await tx.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [
                  tx.table('aborted_census__g2'),
                ])
              : await tx.query<{ t: string }>(
                  "SELECT name AS t FROM sqlite_master WHERE name = 'aborted_census__g2'",
                );
          return rows.length > 0 && rows[0]!.t !== null;
        });
        expect(shadowLeft).toBe(false);
        // Nothing is left half-done: the next rebuild runs from the start and swaps as usual.
        expect(await live.rebuild()).toMatchObject({ processed: 30, total: 30 });
        expect(await census(store, 'aborted_census')).toHaveLength(30);
      });
    });

    describe('transactional outbox', () => {
      it('an append writes outbox rows in its own transaction; a selector picks the events and their topic', async () => {
        const boxed = await h.connect({
          outbox: (event) =>
            event.type === 'contract.skip' ? false : event.type === 'contract.routed' ? 'routed' : true,
        });
        const appended = await boxed.append('s1', [
          testEvent('contract.kept'),
          testEvent('contract.skip'),
          testEvent('contract.routed'),
        ]);
        await boxed.append('s2', testEvents(2));
        await expect(
          boxed.append('s3', testEvents(2), {
            withinTransaction: () => {
              throw new Error('rolled back');
            },
          }),
        ).rejects.toThrow('rolled back');
        const pending = await boxed.outbox.pending();
        expect(pending.map((e) => [e.streamId, e.version, e.event.type, e.topic])).toEqual([
          ['s1', 1, 'contract.kept', undefined],
          ['s1', 3, 'contract.routed', 'routed'],
          ['s2', 1, 'contract.counted', undefined],
          ['s2', 2, 'contract.counted', undefined],
        ]);
        expect(pending[0]!.event).toEqual(appended.events[0]!.event);
        expect(pending[0]!.position).toBe(appended.events[0]!.position);
        expect(pending.map((e) => e.id)).toEqual(
          [...pending.map((e) => e.id)].sort((a, b) => (a < b ? -1 : 1)),
        );
        expect(await boxed.outbox.pendingCount()).toBe(4);
        expect(await boxed.outbox.markSent([pending[0]!.id, pending[1]!.id])).toBe(2);
        expect(await boxed.outbox.markSent([pending[0]!.id])).toBe(0);
        expect((await boxed.outbox.pending()).map((e) => e.streamId)).toEqual(['s2', 's2']);
        // A retried append (all ids stored) writes no second outbox row.
        await boxed.append(
          's2',
          (await boxed.readStream('s2')).events.map((e) => e.event),
        );
        expect(await boxed.outbox.pendingCount()).toBe(2);
        // Without the option, nothing goes to the outbox.
        await store.append('s4', testEvents(1));
        expect(await boxed.outbox.pendingCount()).toBe(2);
        // Tenants see their own entries only.
        await boxed.forTenant('acme').append('acme-s', testEvents(1));
        expect((await boxed.forTenant('acme').outbox.pending()).map((e) => e.tenantId)).toEqual(['acme']);
        expect(await boxed.forTenant('globex').outbox.pendingCount()).toBe(0);
      });

      it('one lease holder at a time; released, another takes it', async () => {
        const other = await h.connect();
        const a = store.outbox.lease('relay', { ttlMs: 60_000 });
        const b = other.outbox.lease('relay', { ttlMs: 60_000 });
        expect(await a.acquire()).toBe(true);
        expect(await a.acquire()).toBe(true);
        expect(await b.acquire()).toBe(false);
        expect(await other.outbox.lease('another-name').acquire()).toBe(true);
        await a.release();
        expect(await b.acquire()).toBe(true);
        expect(await a.acquire()).toBe(false);
        await b.release();
      });

      it('the relay publishes in order per stream and marks sent; a standby takes over when the active one stops', async () => {
        const bus = await scratchTransport([{ name: 'patients', partitions: 3 }]);
        cleanups.push(() => bus.done());
        const boxed = await h.connect({ outbox: true });
        const standbyStore = await h.connect();
        const relayOn = (target: EventStore) =>
          createOutboxRelay({
            store: target,
            transport: bus.transport,
            topic: 'patients',
            batchSize: 7,
            pollIntervalMs: 5,
            standbyPollMs: 20,
            leaseTtlMs: 200,
          });
        const active = relayOn(boxed);
        const standby = relayOn(standbyStore);
        cleanups.push(
          () => active.stop(),
          () => standby.stop(),
        );
        active.start();
        await waitFor(() => active.active);
        standby.start();
        const appended: StoredEvent[] = [];
        for (let i = 0; i < 30; i++)
          appended.push(...(await boxed.append(`s-${i % 4}`, testEvents(1 + (i % 2)))).events);
        await waitFor(async () => (await boxed.outbox.pendingCount()) === 0);
        expect(standby.active).toBe(false);
        await active.stop();
        await waitFor(() => standby.active, 5_000);
        for (let i = 0; i < 10; i++)
          appended.push(...(await boxed.append(`s-${i % 4}`, testEvents(1))).events);
        await waitFor(async () => (await boxed.outbox.pendingCount()) === 0);
        expect(active.published + standby.published).toBe(appended.length);
        const records = await bus.records('patients');
        expect(records.map((r) => r.id).sort()).toEqual(idsOf(appended).sort());
        // In order per stream: each stream's records sit in one partition, in version order.
        for (const streamId of ['s-0', 's-1', 's-2', 's-3']) {
          const mine = records.filter((r) => r.streamKey === streamId);
          expect(new Set(mine.map((r) => r.partition)).size).toBe(1);
          expect(mine.map((r) => r.id)).toEqual(idsOf(appended.filter((e) => e.streamId === streamId)));
        }
      });
    });

    describe('global order and stream order', () => {
      it('readAll, a subscription and the relay meet each stream’s versions in order, under concurrent writers with slow commits', async () => {
        const bus = await scratchTransport([{ name: 'order', partitions: 2 }]);
        cleanups.push(() => bus.done());
        // Several stores, each written by several loops at once (on PostgreSQL: group commit of appends
        // to distinct streams), on a few shared streams; some appends hold their transaction open.
        // Where one process writes through one connection (the harness's writer is the store itself),
        // the loops share one store.
        const oneConnection = (await h.writer()) === store;
        const first = await h.connect({ outbox: true });
        const writers = oneConnection
          ? [first, first, first]
          : [first, await h.connect({ outbox: true }), await h.connect({ outbox: true })];
        const start = await store.headCheckpoint();
        const relayed: OutboxEntry[] = [];
        const relay = createOutboxRelay({
          store: writers[0]!,
          transport: bus.transport,
          topic: 'order',
          batchSize: 9,
          pollIntervalMs: 5,
          onPublished: (entries) => void relayed.push(...entries),
        });
        cleanups.push(() => relay.stop());
        relay.start();
        const subscribed: StoredEvent[] = [];
        const subscription = store.subscribe({
          after: start,
          handler: (e) => void subscribed.push(e),
          batchSize: 7,
          pollIntervalMs: 5,
        });
        cleanups.push(() => subscription.stop());

        let appended = 0;
        await Promise.all(
          writers.flatMap((writer, w) =>
            Array.from({ length: 3 }, async (_, loop) => {
              for (let j = 0; j < 12; j++) {
                const holdMs = (w + loop + j) % 4 === 0 ? 2 + ((w * 7 + j * 3) % 9) : 0;
                const result = await writer.append(
                  `order-${(w + loop * 2 + j) % 5}`,
                  testEvents(1 + (j % 3)),
                  {
                    withinTransaction: holdMs > 0 ? () => sleep(holdMs) : undefined,
                  },
                );
                appended += result.events.length;
              }
            }),
          ),
        );
        await h.settle();
        await waitFor(() => subscribed.length >= appended && relayed.length >= appended, 10_000);
        const read = await readEverything(store, { after: start }, 11);
        expect({ readAll: read.length, subscription: subscribed.length, relay: relayed.length }).toEqual({
          readAll: appended,
          subscription: appended,
          relay: appended,
        });
        expect({
          readAll: streamOrderViolations(read),
          subscription: streamOrderViolations(subscribed),
          relay: streamOrderViolations(relayed),
        }).toEqual({ readAll: [], subscription: [], relay: [] });
      });
    });

    describe('through a Publisher', () => {
      it('the relay and a replay publish with the publisher’s catalog routing and validation', async () => {
        const counted = defineEvent({
          type: 'contract.counted',
          version: 1,
          schema: z.object({ n: z.number() }),
        });
        const topic = defineTopic({ name: 'counted', partitions: 2, events: [counted] });
        const bus = await scratchTransport([{ name: 'counted', partitions: 2 }]);
        cleanups.push(() => bus.done());
        const publisher = createPublisher({
          transport: bus.transport,
          catalog: createCatalog({ topics: [topic] }),
          source: '/contract/relay',
        });
        cleanups.push(() => publisher.close());
        const boxed = await h.connect({ outbox: true });
        const relay = createOutboxRelay({ store: boxed, publisher, pollIntervalMs: 5 });
        cleanups.push(() => relay.stop());
        relay.start();
        const appended = (await boxed.append('p', testEvents(5))).events;
        await waitFor(async () => (await boxed.outbox.pendingCount()) === 0);
        expect((await bus.records('counted')).map((r) => r.id).sort()).toEqual(idsOf(appended).sort());
        await relay.stop();
        const report = await replay({ store: boxed, publisher, filter: { streamPrefix: 'p' } });
        expect(report.processed).toBe(5);
        expect(await bus.records('counted')).toHaveLength(10);
      });
    });

    describe('replay', () => {
      it('selects by tenant, types, time window, correlation id and stream prefix, in global order; a dry run only counts', async () => {
        await store.append('ward-1/a', [admitted('x1', 'A', { correlationid: 'c1' }), moved('x1', 'B')]);
        await store.forTenant('acme').append('ward-2/b', [admitted('x2', 'A', { correlationid: 'c1' })]);
        await sleep(20);
        const middle = new Date();
        await sleep(20);
        await store.append('clinic/c', [admitted('x3', 'C', { correlationid: 'c1' }), moved('x3', 'D')]);
        const all = await readEverything(store);
        const run = async (filter: Parameters<typeof replay>[0]['filter']) => {
          const got: StoredEvent[] = [];
          const report = await replay({ store, filter, handler: (e) => void got.push(e), batchSize: 2 });
          expect(report).toMatchObject({
            processed: got.length,
            total: got.length,
            dryRun: false,
            aborted: false,
          });
          const dry = await replay({ store, filter, dryRun: true });
          expect(dry).toMatchObject({ total: got.length, processed: 0, dryRun: true });
          return idsOf(got);
        };
        const pick = (keep: (e: StoredEvent) => boolean) => idsOf(all.filter(keep));
        expect(await run({})).toEqual(idsOf(all));
        expect(await run({ tenantId: 'acme' })).toEqual(pick((e) => e.tenantId === 'acme'));
        expect(await run({ types: ['contract.patient.moved'] })).toEqual(
          pick((e) => e.event.type === 'contract.patient.moved'),
        );
        expect(await run({ since: middle })).toEqual(pick((e) => e.recordedAt >= middle));
        expect(await run({ until: middle })).toEqual(pick((e) => e.recordedAt < middle));
        expect(await run({ correlationId: 'c1' })).toEqual(pick((e) => e.event.correlationid === 'c1'));
        expect(await run({ streamPrefix: 'ward-' })).toEqual(pick((e) => e.streamId.startsWith('ward-')));
        expect(await run({ streamPrefix: 'ward-', correlationId: 'c1', tenantId: 'default' })).toEqual(
          pick((e) => e.streamId === 'ward-1/a' && e.event.correlationid === 'c1'),
        );
        const scoped: StoredEvent[] = [];
        await replay({ store: store.forTenant('acme'), handler: (e) => void scoped.push(e) });
        expect(scoped.map((e) => e.tenantId)).toEqual(['acme']);
      });

      it('republishes onto a topic at a bounded rate, reporting progress, and takes only what existed when it started', async () => {
        const bus = await scratchTransport([{ name: 'replayed', partitions: 2 }]);
        cleanups.push(() => bus.done());
        const appended = (await store.append('r', testEvents(60))).events;
        const progress: number[] = [];
        const started = performance.now();
        const report = await replay({
          store,
          transport: bus.transport,
          topic: 'replayed',
          ratePerSecond: 300,
          onProgress: (p) => {
            progress.push(p.processed);
            if (p.processed === 30) void store.append('r', testEvents(5));
          },
        });
        const elapsed = performance.now() - started;
        expect(report).toMatchObject({ total: 60, processed: 60 });
        // 60 events at 300/s: about 200 ms, never much faster.
        expect(elapsed).toBeGreaterThanOrEqual(170);
        expect(progress[0]).toBe(0);
        expect(progress.at(-1)).toBe(60);
        expect(progress.length).toBeGreaterThan(3);
        const records = await bus.records('replayed');
        expect(records.map((r) => r.id)).toEqual(idsOf(appended));
      });
    });

    describe('archiving', () => {
      it('exports events older than a date to NDJSON and removes them; the counts reconcile; streams carry on', async () => {
        const old = (await store.append('arch', testEvents(7))).events;
        await store.forTenant('acme').append('arch-acme', testEvents(2));
        await sleep(20);
        const cut = new Date();
        await sleep(20);
        const recent = (await store.append('arch', testEvents(2), { expectedVersion: 7 })).events;
        const dir = await mkdtemp(join(tmpdir(), 'keel-archive-'));
        cleanups.push(() => rm(dir, { recursive: true, force: true }));
        const acmeFile = join(dir, 'acme.ndjson');
        const acme = await archiveToFile({ store: store.forTenant('acme'), before: cut, path: acmeFile });
        expect(acme).toMatchObject({ exported: 2, removed: 2, lines: 2 });
        const file = join(dir, 'archive.ndjson');
        const report = await archiveToFile({ store, before: cut, path: file, batchSize: 3 });
        expect(report).toMatchObject({ exported: 7, removed: 7, lines: 7, batches: 3 });
        expect(report.firstPosition).toBe(old[0]!.position);
        expect(report.lastPosition).toBe(old[6]!.position);
        const lines = (await readFile(file, 'utf8'))
          .trimEnd()
          .split('\n')
          .map((l) => JSON.parse(l));
        expect(lines.map((l) => l.event.id)).toEqual(idsOf(old));
        expect(lines[0]).toMatchObject({
          position: String(old[0]!.position),
          streamId: 'arch',
          version: 1,
          tenantId: 'default',
        });
        expect(lines[0].event).toEqual(JSON.parse(JSON.stringify(old[0]!.event)));
        expect(JSON.parse(await readFile(`${file}.report.json`, 'utf8'))).toMatchObject({
          exported: 7,
          removed: 7,
          lines: 7,
        });
        expect(idsOf(await readEverything(store))).toEqual(idsOf(recent));
        const page = await store.readStream('arch');
        expect(page.streamVersion).toBe(9);
        expect(page.events.map((e) => e.version)).toEqual([8, 9]);
        expect((await store.append('arch', testEvents(1), { expectedVersion: 9 })).nextExpectedVersion).toBe(
          10,
        );
        await expect(archiveToFile({ store, before: cut, path: file })).rejects.toMatchObject({
          code: 'EEXIST',
        });
        const nothing = await archiveToFile({ store, before: cut, path: join(dir, 'empty.ndjson') });
        expect(nothing).toMatchObject({ exported: 0, removed: 0, lines: 0, batches: 0 });
      });
    });
  });
}
