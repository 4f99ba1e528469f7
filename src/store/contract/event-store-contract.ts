import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Catalog } from '../../events/catalog.ts';
import { createCatalog } from '../../events/catalog.ts';
import { createEvent } from '../../events/create-event.ts';
import { dataschemaFor } from '../../events/data-schema.ts';
import { defineEvent } from '../../events/define-event.ts';
import type { AppendHook, EventStore, ExpectedVersion, OutboxSelector, StoredEvent } from '../event-store.ts';
import {
  idsOf,
  latch,
  readEverything,
  rejectionOf,
  sleep,
  testEvent,
  testEvents,
  waitFor,
} from './contract-helpers.ts';

/** Options for another store on the same backing store. */
export interface ConnectOptions {
  /** Catalog whose upcasters apply on read. */
  catalog?: Catalog;
  /** Store-wide append hooks. */
  onAppend?: readonly AppendHook[];
  /** The transactional outbox. */
  outbox?: boolean | OutboxSelector;
}

/** What an adapter's test gives the contract suite; `setup` makes a fresh, empty one for every test. */
export interface EventStoreHarness {
  /** The store under test. */
  store: EventStore;
  /** Opens another store on the same backing store, on its own connection (as another process would). */
  connect(options?: ConnectOptions): Promise<EventStore>;
  /**
   * A store for one of many concurrent writers: its own connection where one process may hold several
   * writing connections (PostgreSQL), else `store` itself (SQLite: one process writes through one
   * connection, and the store runs its appends one at a time).
   */
  writer(): Promise<EventStore>;
  /**
   * Qualified name of an empty table hooks may write: (stream_id text, event_id text, version integer).
   * Parameters are `$n` when `transaction.dialect` is `postgres`, `?` on `sqlite`.
   */
  sideTable: string;
  /** Rows of `sideTable` committed so far, ordered by event id. */
  sideRows(): Promise<{ stream_id: string; event_id: string; version: number }[]>;
  /**
   * Waits until everything committed so far is readable by read-all. PostgreSQL readers wait for every
   * older transaction of the cluster (autovacuum's ANALYZE included), so an event is not always readable
   * the moment its append returns; `store` settles before each of its reads, stores from `connect` and
   * `writer` do not (the gap tests hold transactions open on purpose).
   */
  settle(): Promise<void>;
  /** Closes every store the harness opened and removes what it created. */
  cleanup(): Promise<void>;
}

/** An append hook that records each written event in the harness's side table. */
function recordInSideTable(table: string): AppendHook {
  return async ({ events, transaction }) => {
    const sql =
      transaction.dialect === 'postgres'
        ? `INSERT INTO ${table} (stream_id, event_id, version) VALUES ($1, $2, $3)`
        : `INSERT INTO ${table} (stream_id, event_id, version) VALUES (?, ?, ?)`;
    for (const e of events) await transaction.query(sql, [e.streamId, e.event.id, e.version]);
  };
}

/**
 * The EventStore contract: the behaviour every adapter must show, written against the port only.
 * Timings are bounded: the whole suite takes seconds, the concurrent-writers test included.
 */
export function describeEventStoreContract(name: string, setup: () => Promise<EventStoreHarness>): void {
  describe(`EventStore contract: ${name}`, () => {
    let h: EventStoreHarness;
    let store: EventStore;

    beforeEach(async () => {
      h = await setup();
      store = h.store;
    });
    afterEach(async () => {
      await h.cleanup();
    });

    describe('append', () => {
      it('numbers a stream 1, 2, 3, ... with ascending global positions and keeps each CloudEvent intact', async () => {
        const first = testEvent(
          'contract.admitted',
          { patient: 'p-1', ward: 'B' },
          {
            subject: 'p-1',
            correlationid: 'c-1',
            partitionkey: 'p-1',
            traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
            customext: 'kept',
          },
        );
        const before = Date.now();
        const result = await store.append('patient-1', [first, ...testEvents(2)], {
          expectedVersion: 'no_stream',
        });
        expect(result.streamId).toBe('patient-1');
        expect(result.nextExpectedVersion).toBe(3);
        expect(result.duplicates).toEqual([]);
        expect(result.events.map((e) => e.version)).toEqual([1, 2, 3]);
        const positions = result.events.map((e) => e.position);
        expect(positions[0]).toBeGreaterThan(0n);
        expect(positions[1]).toBeGreaterThan(positions[0]!);
        expect(positions[2]).toBeGreaterThan(positions[1]!);
        const again = await store.append('patient-1', testEvents(1), { expectedVersion: 3 });
        expect(again.events[0]!.version).toBe(4);
        expect(again.events[0]!.position).toBeGreaterThan(positions[2]!);

        const page = await store.readStream('patient-1');
        expect(page.streamVersion).toBe(4);
        expect(page.events.map((e) => e.version)).toEqual([1, 2, 3, 4]);
        const stored = page.events[0]!;
        expect(stored.event).toEqual(first);
        expect(stored).toMatchObject({ streamId: 'patient-1', tenantId: 'default', position: positions[0] });
        expect(stored.recordedAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
        expect(stored.recordedAt.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
        expect(page.events.map((e) => e.checkpoint)).toEqual(
          [...result.events, ...again.events].map((e) => e.checkpoint),
        );
      });

      it('stores binary data and events without data exactly as given', async () => {
        const bytes = new Uint8Array([0, 1, 2, 250, 255]);
        const binary = testEvent('contract.scan', undefined, {
          datacontenttype: 'application/octet-stream',
          data: bytes,
        });
        const empty = testEvent('contract.ping');
        delete empty.data;
        delete empty.datacontenttype;
        await store.append('scans', [binary, empty]);
        const [a, b] = (await store.readStream('scans')).events;
        expect(a!.event.data).toBeInstanceOf(Uint8Array);
        expect([...(a!.event.data as Uint8Array)]).toEqual([...bytes]);
        expect(b!.event).toEqual(empty);
      });

      const matrix: { on: string; at: number; expected: ExpectedVersion; outcome: 'accepted' | 'refused' }[] =
        [
          { on: 'no stream', at: 0, expected: 'any', outcome: 'accepted' },
          { on: 'no stream', at: 0, expected: 'no_stream', outcome: 'accepted' },
          { on: 'no stream', at: 0, expected: 0, outcome: 'accepted' },
          { on: 'no stream', at: 0, expected: 'stream_exists', outcome: 'refused' },
          { on: 'no stream', at: 0, expected: 1, outcome: 'refused' },
          { on: 'a stream at 2', at: 2, expected: 'any', outcome: 'accepted' },
          { on: 'a stream at 2', at: 2, expected: 'stream_exists', outcome: 'accepted' },
          { on: 'a stream at 2', at: 2, expected: 2, outcome: 'accepted' },
          { on: 'a stream at 2', at: 2, expected: 'no_stream', outcome: 'refused' },
          { on: 'a stream at 2', at: 2, expected: 0, outcome: 'refused' },
          { on: 'a stream at 2', at: 2, expected: 1, outcome: 'refused' },
          { on: 'a stream at 2', at: 2, expected: 3, outcome: 'refused' },
        ];
      it.each(matrix)(
        'on $on, expected $expected is $outcome (a refusal names stream, expected and actual)',
        async ({ at, expected, outcome }) => {
          if (at > 0) await store.append('s', testEvents(at));
          const attempt = store.append('s', testEvents(1), { expectedVersion: expected });
          if (outcome === 'accepted') {
            expect((await attempt).nextExpectedVersion).toBe(at + 1);
          } else {
            const error = await rejectionOf(attempt);
            expect(error).toMatchObject({
              name: 'WrongExpectedVersionError',
              code: 'KEEL_STORE_WRONG_EXPECTED_VERSION',
              streamId: 's',
              expected,
              actual: at,
            });
            expect(error.message).toContain('"s"');
            const page = await store.readStream('s');
            expect(page.streamVersion).toBe(at);
            expect((await readEverything(store)).length).toBe(at);
          }
        },
      );

      it('lets exactly one of many concurrent appends with the same expected version win', async () => {
        await store.append('contended', testEvents(1));
        const writers = await Promise.all(Array.from({ length: 8 }, () => h.writer()));
        const outcomes = await Promise.allSettled(
          writers.map((w) => w.append('contended', testEvents(2), { expectedVersion: 1 })),
        );
        const won = outcomes.filter((o) => o.status === 'fulfilled');
        const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
        expect(won).toHaveLength(1);
        for (const o of lost)
          expect(o.reason).toMatchObject({ code: 'KEEL_STORE_WRONG_EXPECTED_VERSION', actual: 3 });
        const page = await store.readStream('contended');
        expect(page.events.map((e) => e.version)).toEqual([1, 2, 3]);
      });

      it('is all or nothing: an invalid event in a batch, or a failing hook, leaves no trace', async () => {
        const bad = { ...testEvent('contract.bad'), source: '' };
        await expect(store.append('atomic', [...testEvents(2), bad])).rejects.toMatchObject({
          code: 'KEEL_VALIDATION',
        });
        const failing: AppendHook = async (context) => {
          await recordInSideTable(h.sideTable)(context);
          throw new Error('projection failed');
        };
        await expect(store.append('atomic', testEvents(3), { withinTransaction: failing })).rejects.toThrow(
          'projection failed',
        );
        expect((await store.readStream('atomic')).streamVersion).toBe(0);
        expect(await readEverything(store)).toEqual([]);
        expect(await h.sideRows()).toEqual([]);
        const ok = await store.append('atomic', testEvents(1), { expectedVersion: 'no_stream' });
        expect(ok.events[0]!.version).toBe(1);
      });

      it('refuses a batch naming one id twice, bad stream ids and bad expected versions', async () => {
        const e = testEvent('contract.twice');
        await expect(store.append('s', [e, e])).rejects.toMatchObject({
          code: 'KEEL_STORE_INVALID_APPEND',
          streamId: 's',
        });
        await expect(store.append('', testEvents(1))).rejects.toMatchObject({
          code: 'KEEL_STORE_INVALID_APPEND',
        });
        await expect(store.append('x'.repeat(1001), testEvents(1))).rejects.toMatchObject({
          code: 'KEEL_STORE_INVALID_APPEND',
        });
        await expect(store.append('s', testEvents(1), { expectedVersion: -1 })).rejects.toMatchObject({
          code: 'KEEL_STORE_INVALID_APPEND',
        });
        expect(await readEverything(store)).toEqual([]);
      });

      it('an empty append checks the expected version and writes nothing', async () => {
        expect(await store.append('quiet', [], { expectedVersion: 'no_stream' })).toMatchObject({
          nextExpectedVersion: 0,
          events: [],
        });
        await expect(store.append('quiet', [], { expectedVersion: 'stream_exists' })).rejects.toMatchObject({
          code: 'KEEL_STORE_WRONG_EXPECTED_VERSION',
          actual: 0,
        });
        await store.append('quiet', testEvents(2));
        expect((await store.append('quiet', [], { expectedVersion: 2 })).nextExpectedVersion).toBe(2);
        expect((await readEverything(store)).length).toBe(2);
      });
    });

    describe('idempotent append', () => {
      it('a retried append whose ids are all stored returns the original result and stores nothing', async () => {
        const batch = testEvents(3);
        const original = await store.append('orders-1', batch, { expectedVersion: 'no_stream' });
        await store.append('orders-1', testEvents(1), { expectedVersion: 3 });
        // The retry carries the stale expected version of the first attempt: it is not checked again.
        const retry = await store.append('orders-1', batch, { expectedVersion: 'no_stream' });
        expect(retry.nextExpectedVersion).toBe(original.nextExpectedVersion);
        expect(retry.duplicates).toEqual(batch.map((e) => e.id));
        expect(retry.events.map((e) => [e.event.id, e.version, e.position, e.checkpoint])).toEqual(
          original.events.map((e) => [e.event.id, e.version, e.position, e.checkpoint]),
        );
        expect(retry.events.map((e) => e.event)).toEqual(batch);
        expect((await store.readStream('orders-1')).streamVersion).toBe(4);
        expect((await readEverything(store)).length).toBe(4);
      });

      it('stores only the new events of a partly stored batch, reporting the ids it skipped', async () => {
        const [a, b] = testEvents(2);
        await store.append('orders-2', [a!]);
        const mixed = await store.append('orders-2', [a!, b!]);
        expect(mixed.duplicates).toEqual([a!.id]);
        expect(mixed.events.map((e) => [e.event.id, e.version])).toEqual([
          [a!.id, 1],
          [b!.id, 2],
        ]);
        expect(mixed.nextExpectedVersion).toBe(2);
        expect(idsOf((await store.readStream('orders-2')).events)).toEqual([a!.id, b!.id]);
        // The new part is checked like any append: here the stream is at 2, not 0.
        await expect(
          store.append('orders-2', [a!, testEvent('contract.late')], { expectedVersion: 0 }),
        ).rejects.toMatchObject({ code: 'KEEL_STORE_WRONG_EXPECTED_VERSION', actual: 2 });
      });

      it('refuses an id already stored in another stream and writes nothing', async () => {
        const taken = testEvent('contract.taken');
        await store.append('first', [taken]);
        const error = await rejectionOf(store.append('second', [testEvent('contract.fresh'), taken]));
        expect(error).toMatchObject({
          code: 'KEEL_STORE_DUPLICATE_EVENT_ID',
          eventId: taken.id,
          streamId: 'second',
        });
        expect((await store.readStream('second')).streamVersion).toBe(0);
        expect((await readEverything(store)).length).toBe(1);
      });

      it('of two appends racing one id into two streams, the later one is refused once the first commits', async () => {
        const shared = testEvent('contract.raced');
        const first = await h.writer();
        const second = await h.writer();
        const inside = latch();
        const release = latch();
        const held = first.append('race-a', [shared], {
          withinTransaction: async () => {
            inside.open();
            await release.promise;
          },
        });
        await inside.promise;
        const racing = rejectionOf(second.append('race-b', [testEvent('contract.other'), shared]));
        await sleep(100); // the second append now waits on the first's uncommitted id, where the backend allows
        release.open();
        expect((await held).events[0]!.streamId).toBe('race-a');
        expect(await racing).toMatchObject({
          code: 'KEEL_STORE_DUPLICATE_EVENT_ID',
          eventId: shared.id,
          streamId: 'race-b',
        });
        expect(idsOf(await readEverything(store))).toEqual([shared.id]);
      });

      it('of concurrent appends of the same ids to one stream, one writes and the others are duplicates', async () => {
        const batch = testEvents(2);
        const writers = await Promise.all(Array.from({ length: 6 }, () => h.writer()));
        const results = await Promise.all(writers.map((w) => w.append('same', batch)));
        expect(results.filter((r) => r.duplicates.length === 0)).toHaveLength(1);
        for (const r of results) expect(r.events.map((e) => e.version)).toEqual([1, 2]);
        expect((await readEverything(store)).length).toBe(2);
      });
    });

    describe('read a stream', () => {
      it('reads forwards and backwards from a version, in pages that chain with `next`', async () => {
        await store.append('paged', testEvents(7));
        await store.append('other', testEvents(2));
        const forwards = await store.readStream('paged', { fromVersion: 3, maxCount: 2 });
        expect(forwards.events.map((e) => e.version)).toEqual([3, 4]);
        expect(forwards.next).toBe(5);
        expect(forwards.streamVersion).toBe(7);
        const rest = await store.readStream('paged', { fromVersion: forwards.next, maxCount: 10 });
        expect(rest.events.map((e) => e.version)).toEqual([5, 6, 7]);
        expect(rest.next).toBeUndefined();
        const exact = await store.readStream('paged', { fromVersion: 6, maxCount: 2 });
        expect(exact.events.map((e) => e.version)).toEqual([6, 7]);
        expect(exact.next).toBeUndefined();

        const back = await store.readStream('paged', { direction: 'backwards', maxCount: 3 });
        expect(back.events.map((e) => e.version)).toEqual([7, 6, 5]);
        expect(back.next).toBe(4);
        const backFrom = await store.readStream('paged', { direction: 'backwards', fromVersion: 2 });
        expect(backFrom.events.map((e) => e.version)).toEqual([2, 1]);
        expect(backFrom.next).toBeUndefined();
        const all = await store.readStream('paged');
        expect(all.events.map((e) => (e.event.data as { n: number }).n)).toEqual([1, 2, 3, 4, 5, 6, 7]);
        expect((await store.readStream('paged', { maxCount: 0 })).streamVersion).toBe(7);
      });

      it('a stream with no events reads as version 0 with no events', async () => {
        expect(await store.readStream('nobody')).toEqual({
          streamId: 'nobody',
          streamVersion: 0,
          events: [],
          next: undefined,
        });
        expect((await store.readStream('nobody', { direction: 'backwards' })).events).toEqual([]);
      });
    });

    describe('read all', () => {
      it('reads every event in append order, in pages that resume from a checkpoint', async () => {
        const appended: StoredEvent[] = [];
        for (let i = 0; i < 5; i++)
          appended.push(...(await store.append(`s-${i % 2}`, testEvents(3))).events);
        const pages: string[][] = [];
        let after: string | undefined;
        for (;;) {
          const page = await store.readAll({ after, maxCount: 4 });
          pages.push(idsOf(page.events));
          after = page.next;
          if (!page.hasMore) break;
        }
        expect(pages.map((p) => p.length)).toEqual([4, 4, 4, 3]);
        expect(pages.flat()).toEqual(idsOf(appended));
        const empty = await store.readAll({ after });
        expect(empty).toEqual({ events: [], next: after, hasMore: false });
        const fromMiddle = await store.readAll({ after: appended[6]!.checkpoint });
        expect(idsOf(fromMiddle.events)).toEqual(idsOf(appended.slice(7)));
        expect(fromMiddle.events.map((e) => e.checkpoint)).toEqual(
          appended.slice(7).map((e) => e.checkpoint),
        );
        const fromPosition = await readEverything(store, { fromPosition: appended[10]!.position });
        expect(idsOf(fromPosition)).toEqual(idsOf(appended.slice(10)));
      });

      it('filters by types, tenant, correlation id, stream prefix, time range and position, with pagination', async () => {
        const t0 = Date.now();
        await store.append('ward%_1/a', [
          testEvent('contract.admitted', {}, { correlationid: 'corr-1' }),
          testEvent('contract.moved', {}, { correlationid: 'corr-2' }),
        ]);
        await store.append('ward-1/b', [
          testEvent('contract.admitted'),
          testEvent('contract.discharged', {}, { correlationid: 'corr-1' }),
        ]);
        await store.append('clinic/c', testEvents(3, 'contract.admitted', { correlationid: 'corr-1' }), {
          tenantId: 'acme',
        });
        await sleep(30);
        const middle = new Date();
        await sleep(30);
        await store.append('ward%_1/a', [testEvent('contract.admitted', {}, { correlationid: 'corr-1' })]);
        const t1 = Date.now();
        const all = await readEverything(store);
        const pick = (filter: Parameters<typeof readEverything>[1]) => readEverything(store, filter, 2);
        const expectIds = async (
          filter: Parameters<typeof readEverything>[1],
          keep: (e: StoredEvent) => boolean,
        ) => expect(idsOf(await pick(filter))).toEqual(idsOf(all.filter(keep)));

        await expectIds({ types: ['contract.admitted'] }, (e) => e.event.type === 'contract.admitted');
        await expectIds(
          { types: ['contract.moved', 'contract.discharged'] },
          (e) => e.event.type === 'contract.moved' || e.event.type === 'contract.discharged',
        );
        await expectIds({ tenantId: 'acme' }, (e) => e.tenantId === 'acme');
        await expectIds({ correlationId: 'corr-1' }, (e) => e.event.correlationid === 'corr-1');
        // A prefix is literal: '%' and '_' are not wildcards.
        await expectIds({ streamPrefix: 'ward%_' }, (e) => e.streamId.startsWith('ward%_'));
        await expectIds({ streamPrefix: 'ward' }, (e) => e.streamId.startsWith('ward'));
        await expectIds({ since: middle }, (e) => e.recordedAt >= middle);
        await expectIds({ until: middle }, (e) => e.recordedAt < middle);
        await expectIds({ since: new Date(t0 - 1000), until: new Date(t1 + 1000) }, () => true);
        await expectIds({ fromPosition: all[3]!.position }, (e) => e.position >= all[3]!.position);
        await expectIds(
          { types: ['contract.admitted'], correlationId: 'corr-1', tenantId: 'default' },
          (e) =>
            e.event.type === 'contract.admitted' &&
            e.event.correlationid === 'corr-1' &&
            e.tenantId === 'default',
        );
        expect(await pick({ types: [] })).toEqual([]);
        expect(all).toHaveLength(8);
      });

      it('refuses a checkpoint it did not make', async () => {
        for (const bad of ['nonsense', '-1', '1.5', 'x:y']) {
          await expect(store.readAll({ after: bad })).rejects.toMatchObject({
            code: 'KEEL_STORE_INVALID_CHECKPOINT',
          });
        }
      });
    });

    describe('inspection', () => {
      it('lists streams in id order, in pages, filtered by tenant, prefix and event type', async () => {
        await store.append('patient-b', testEvents(2));
        await store.append('patient-a', [testEvent('contract.admitted'), ...testEvents(1)]);
        await store.forTenant('acme').append('patient-c', testEvents(1));
        await store.append('order-1', [testEvent('contract.admitted')]);

        const all = await store.listStreams();
        expect(all.map((s) => s.streamId)).toEqual(['order-1', 'patient-a', 'patient-b', 'patient-c']);
        expect(all.find((s) => s.streamId === 'patient-b')).toMatchObject({
          tenantId: 'default',
          version: 2,
          deletedAt: undefined,
        });
        expect(all[0]!.createdAt).toBeInstanceOf(Date);

        const first = await store.listStreams({ maxCount: 2 });
        const second = await store.listStreams({ maxCount: 2, after: first.at(-1)!.streamId });
        expect([...first, ...second].map((s) => s.streamId)).toEqual(all.map((s) => s.streamId));

        expect((await store.listStreams({ tenantId: 'acme' })).map((s) => s.streamId)).toEqual(['patient-c']);
        expect((await store.forTenant('acme').listStreams()).map((s) => s.streamId)).toEqual(['patient-c']);
        expect((await store.listStreams({ streamPrefix: 'patient-' })).map((s) => s.streamId)).toEqual([
          'patient-a',
          'patient-b',
          'patient-c',
        ]);
        expect((await store.listStreams({ types: ['contract.admitted'] })).map((s) => s.streamId)).toEqual([
          'order-1',
          'patient-a',
        ]);
      });

      it('leaves deleted streams out unless asked', async () => {
        await store.append('gone', testEvents(1));
        await store.append('kept', testEvents(1));
        await store.deleteStream('gone');
        expect((await store.listStreams()).map((s) => s.streamId)).toEqual(['kept']);
        const withDeleted = await store.listStreams({ includeDeleted: true });
        expect(withDeleted.map((s) => s.streamId)).toEqual(['gone', 'kept']);
        expect(withDeleted[0]!.deletedAt).toBeInstanceOf(Date);
      });

      it("lists a stream's snapshots by name, and reads one event by id", async () => {
        const appended = await store.append('patient-1', testEvents(3));
        await store.writeSnapshot({
          streamId: 'patient-1',
          name: 'b',
          streamVersion: 2,
          stateVersion: 1,
          state: { n: 2 },
        });
        await store.writeSnapshot({
          streamId: 'patient-1',
          name: 'a',
          streamVersion: 3,
          stateVersion: 4,
          state: { n: 3 },
        });
        const snapshots = await store.listSnapshots('patient-1');
        expect(snapshots.map((s) => [s.name, s.streamVersion, s.stateVersion, s.state])).toEqual([
          ['a', 3, 4, { n: 3 }],
          ['b', 2, 1, { n: 2 }],
        ]);
        expect(await store.listSnapshots('nothing')).toEqual([]);
        expect(await store.forTenant('acme').listSnapshots('patient-1')).toEqual([]);

        const second = appended.events[1]!;
        const read = await store.readEvent(second.event.id);
        expect(read).toMatchObject({ streamId: 'patient-1', version: 2, checkpoint: second.checkpoint });
        expect(read!.event.id).toBe(second.event.id);
        expect(await store.readEvent('no-such-id')).toBeUndefined();
        expect(await store.forTenant('acme').readEvent(second.event.id)).toBeUndefined();
      });
    });

    describe('global order with no gaps visible to readers', () => {
      it('a reader never passes an append still in flight, even when later appends have committed', async () => {
        const reader = await h.connect();
        const early = await store.append('warm-up', testEvents(1));
        const slow = await h.writer();
        const fast = await h.writer();
        const inside = latch();
        const release = latch();
        const held = slow.append('slow', testEvents(2), {
          withinTransaction: async () => {
            inside.open();
            await release.promise;
          },
        });
        await inside.promise;
        const quick = fast.append('fast', testEvents(2));
        await sleep(150); // time for the fast append to commit where the backend lets it
        const during = await readEverything(reader, { after: early.events[0]!.checkpoint });
        // Whatever committed behind the open transaction stays invisible until it ends.
        expect(during).toEqual([]);
        release.open();
        const [slowResult, fastResult] = await Promise.all([held, quick]);
        const after = await readEverything(reader, { after: early.events[0]!.checkpoint });
        expect(idsOf(after).sort()).toEqual(idsOf([...slowResult.events, ...fastResult.events]).sort());
        expect(idsOf(after.filter((e) => e.streamId === 'slow'))).toEqual(idsOf(slowResult.events));
      });

      it('16 concurrent writers, some holding their transaction open: a polling reader sees every event exactly once', async () => {
        const writerCount = 16;
        const appendsPerWriter = 12;
        const reader = await h.connect();
        const writers = await Promise.all(Array.from({ length: writerCount }, () => h.writer()));
        const written: string[] = [];
        let writing = true;
        const seen = new Map<string, number>();
        let checkpoint: string | undefined;
        let reads = 0;
        const readOnce = async (): Promise<number> => {
          const page = await reader.readAll({ after: checkpoint, maxCount: 13 });
          reads++;
          for (const e of page.events) seen.set(e.event.id, (seen.get(e.event.id) ?? 0) + 1);
          checkpoint = page.next;
          return page.events.length;
        };
        const polling = (async () => {
          while (writing) if ((await readOnce()) === 0) await sleep(2);
          while ((await readOnce()) > 0) {}
        })();
        await Promise.all(
          writers.map(async (w, i) => {
            for (let j = 0; j < appendsPerWriter; j++) {
              const events = testEvents(1 + ((i + j) % 3));
              // About one append in six keeps its transaction open after its events took their positions.
              const hold = (i * 7 + j) % 6 === 0 ? 15 + ((i * 13 + j * 29) % 50) : 0;
              const result = await w.append(`writer-${i}-${j % 4}`, events, {
                withinTransaction: hold > 0 ? () => sleep(hold) : undefined,
              });
              written.push(...idsOf(result.events));
            }
          }),
        );
        writing = false;
        await polling;
        const missing = written.filter((id) => !seen.has(id));
        const repeated = [...seen].filter(([, n]) => n > 1);
        expect({
          missing: missing.length,
          repeated: repeated.length,
          extra: seen.size - written.length,
        }).toEqual({
          missing: 0,
          repeated: 0,
          extra: 0,
        });
        expect(reads).toBeGreaterThan(writerCount);
      });
    });

    describe('tenants', () => {
      it('a tenant handle appends as its tenant and reads only its own events', async () => {
        const acme = store.forTenant('acme');
        const globex = store.forTenant('globex');
        expect(acme.tenantId).toBe('acme');
        const a = await acme.append('acme/patient-1', testEvents(2));
        expect(a.tenantId).toBe('acme');
        expect(a.events.every((e) => e.tenantId === 'acme' && e.event.tenantid === 'acme')).toBe(true);
        await globex.append('globex/patient-1', testEvents(1));
        await store.append('shared', testEvents(1));

        expect(idsOf(await readEverything(acme))).toEqual(idsOf(a.events));
        expect(await readEverything(acme, { tenantId: 'globex' })).toEqual([]);
        expect((await acme.readStream('acme/patient-1')).streamVersion).toBe(2);
        expect(await acme.readStream('globex/patient-1')).toMatchObject({ streamVersion: 0, events: [] });
        expect(await acme.readStream('shared')).toMatchObject({ streamVersion: 0, events: [] });
        expect((await readEverything(store)).map((e) => e.tenantId).sort()).toEqual([
          'acme',
          'acme',
          'default',
          'globex',
        ]);
      });

      it("a tenant handle cannot append to another tenant's stream, nor another tenant's events", async () => {
        await store.forTenant('globex').append('globex/patient-1', testEvents(1));
        const acme = store.forTenant('acme');
        const error = await rejectionOf(acme.append('globex/patient-1', testEvents(1)));
        expect(error).toMatchObject({
          code: 'KEEL_STORE_TENANT_MISMATCH',
          streamId: 'globex/patient-1',
          tenantId: 'acme',
        });
        expect(error.message).not.toContain('globex"');
        await expect(
          acme.append('acme/x', testEvents(1, 'contract.t', { tenantid: 'globex' })),
        ).rejects.toMatchObject({
          code: 'KEEL_STORE_TENANT_MISMATCH',
        });
        await expect(acme.append('acme/x', testEvents(1), { tenantId: 'globex' })).rejects.toMatchObject({
          code: 'KEEL_STORE_TENANT_MISMATCH',
        });
        expect(() => acme.forTenant('globex')).toThrow(
          expect.objectContaining({ code: 'KEEL_STORE_TENANT_MISMATCH' }),
        );
        // The unscoped store refuses a tenant that does not own the stream too, and without a tenant appends as the owner.
        await expect(
          store.append('globex/patient-1', testEvents(1), { tenantId: 'acme' }),
        ).rejects.toMatchObject({
          code: 'KEEL_STORE_TENANT_MISMATCH',
        });
        const asOwner = await store.append('globex/patient-1', testEvents(1));
        expect(asOwner.tenantId).toBe('globex');
        expect(await readEverything(acme)).toEqual([]);
        expect((await store.readStream('globex/patient-1')).streamVersion).toBe(2);
      });

      it('a tenant subscription receives only its tenant’s events', async () => {
        await store.forTenant('globex').append('g', testEvents(2));
        const mine = await store.forTenant('acme').append('a', testEvents(2));
        const got: StoredEvent[] = [];
        const subscription = store
          .forTenant('acme')
          .subscribe({ handler: (e) => void got.push(e), pollIntervalMs: 10 });
        await waitFor(() => got.length >= 2);
        await sleep(50);
        await subscription.stop();
        expect(idsOf(got)).toEqual(idsOf(mine.events));
      });
    });

    describe('upcasting on read', () => {
      const v1 = defineEvent({
        type: 'contract.patient.registered',
        version: 1,
        schema: z.object({ name: z.string() }),
      });
      const v2 = defineEvent({
        type: 'contract.patient.registered',
        version: 2,
        schema: z.object({ given: z.string(), family: z.string() }),
        upcasters: [
          {
            fromVersion: 1,
            upcast: (data) => {
              const [given = '', family = ''] = (data as { name: string }).name.split(' ');
              return { given, family };
            },
          },
        ],
      });

      it('readers with the catalog see the current version; old events stay stored as written', async () => {
        const old = createEvent(v1, { name: 'Ada Lovelace' }, { source: '/contract' });
        const current = createEvent(v2, { given: 'Alan', family: 'Turing' }, { source: '/contract' });
        await store.append('registry', [old, current]);
        const upcasting = await h.connect({ catalog: createCatalog({ topics: [], events: [v2] }) });
        await h.settle();

        const [first, second] = (await upcasting.readStream('registry')).events;
        expect(first!.event.data).toEqual({ given: 'Ada', family: 'Lovelace' });
        expect(first!.event.dataschema).toBe(dataschemaFor(v2.type, 2));
        expect(second!.event).toEqual(current);
        expect((await readEverything(upcasting))[0]!.event.data).toEqual({
          given: 'Ada',
          family: 'Lovelace',
        });
        const got: StoredEvent[] = [];
        const subscription = upcasting.subscribe({ handler: (e) => void got.push(e), pollIntervalMs: 10 });
        await waitFor(() => got.length >= 2);
        await subscription.stop();
        expect(got[0]!.event.data).toEqual({ given: 'Ada', family: 'Lovelace' });

        // Without the catalog the same row reads as it was written.
        const raw = (await store.readStream('registry')).events[0]!;
        expect(raw.event).toEqual(old);
        expect(raw.event.dataschema).toBe(dataschemaFor(v1.type, 1));
      });
    });

    describe('append hooks', () => {
      it('run in the append transaction with the written events; store-wide hooks first; not on a retry', async () => {
        const order: string[] = [];
        const hooked = await h.connect({
          onAppend: [
            async (context) => {
              order.push('store');
              await recordInSideTable(h.sideTable)(context);
            },
          ],
        });
        const seen: { versions: number[]; positions: bigint[]; streamVersion: number }[] = [];
        const batch = testEvents(2);
        const result = await hooked.append('hooked', batch, {
          withinTransaction: ({ events, streamVersion }) => {
            order.push('append');
            seen.push({
              versions: events.map((e) => e.version),
              positions: events.map((e) => e.position),
              streamVersion,
            });
          },
        });
        expect(order).toEqual(['store', 'append']);
        expect(seen).toEqual([
          { versions: [1, 2], positions: result.events.map((e) => e.position), streamVersion: 2 },
        ]);
        expect(await h.sideRows()).toEqual(
          batch
            .map((e, i) => ({ stream_id: 'hooked', event_id: e.id, version: i + 1 }))
            .sort((a, b) => a.event_id.localeCompare(b.event_id)),
        );
        await hooked.append('hooked', batch);
        expect(order).toEqual(['store', 'append']);
        expect((await h.sideRows()).length).toBe(2);
      });
    });

    describe('subscribe', () => {
      it('catches up, follows new appends in order, and resumes after its checkpoint', async () => {
        const before = await store.append('sub', testEvents(3));
        const got: StoredEvent[] = [];
        const subscription = store.subscribe({
          handler: (e) => void got.push(e),
          batchSize: 2,
          pollIntervalMs: 10,
        });
        await waitFor(() => got.length === 3);
        const later = await store.append('sub', testEvents(2));
        await waitFor(() => got.length === 5);
        await subscription.stop();
        expect(idsOf(got)).toEqual(idsOf([...before.events, ...later.events]));
        expect(subscription.checkpoint).toBe(later.events[1]!.checkpoint);

        const last = await store.append('sub', testEvents(1));
        const resumed: StoredEvent[] = [];
        const again = store.subscribe({
          after: subscription.checkpoint,
          handler: (e) => void resumed.push(e),
          pollIntervalMs: 10,
        });
        await waitFor(() => resumed.length === 1);
        await again.stop();
        expect(idsOf(resumed)).toEqual(idsOf(last.events));
      });

      it('stops with the handler’s error, at the last event handled', async () => {
        const appended = await store.append('sub', testEvents(3));
        const subscription = store.subscribe({
          handler: (e) => {
            if ((e.event.data as { n: number }).n === 2) throw new Error('handler broke');
          },
          pollIntervalMs: 10,
        });
        await expect(subscription.done).rejects.toThrow('handler broke');
        expect(subscription.checkpoint).toBe(appended.events[0]!.checkpoint);
      });
    });

    describe('lifecycle', () => {
      it('refuses work once closed, with a typed error', async () => {
        const own = await h.connect();
        await own.close();
        await expect(own.append('s', testEvents(1))).rejects.toMatchObject({
          code: 'KEEL_STORE_CLOSED',
          operation: 'append',
        });
        await expect(own.readAll()).rejects.toMatchObject({ code: 'KEEL_STORE_CLOSED' });
        await own.close();
      });
    });
  });
}
