import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { OptionsError } from '../../errors/options.ts';
import { outgoing, pollUntil, sleep, text, tp, waitUntil } from '../contract/contract-helpers.ts';
import type { Consumer, TopicPartition } from '../transport.ts';
import type { EmbeddedTransport, EmbeddedTransportOptions } from './embedded-transport.ts';
import { createEmbeddedTransport } from './embedded-transport.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempPath(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'keel-embedded-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return join(dir, 'log.db');
}

function open(options: EmbeddedTransportOptions): EmbeddedTransport {
  const transport = createEmbeddedTransport({ maintenanceIntervalMs: 0, ...options });
  cleanups.push(() => transport.close());
  return transport;
}

function traceLogger(): { logger: pino.Logger; entries: Array<Record<string, unknown>> } {
  const entries: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => entries.push(JSON.parse(line)) });
  return { logger, entries };
}

describe('embedded transport: group commit', () => {
  it('writes 64 concurrent single-record appends in one transaction, offsets in call order', async () => {
    const { logger, entries } = traceLogger();
    const transport = open({ path: await tempPath(), logger });
    await transport.ensureTopics([{ name: 't', partitions: 1 }]);
    const results = await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        transport.append([{ topic: 't', partition: 0, records: [outgoing(`k${i}`, `v${i}`)] }]),
      ),
    );
    expect(results.map((r) => r[0]?.[0])).toEqual(Array.from({ length: 64 }, (_, i) => BigInt(i)));
    const flushes = entries.filter((e) => e.msg === 'embedded transport: append flush committed');
    expect(flushes.map((f) => [f.appends, f.records])).toEqual([[64, 64]]);
  });

  it('a failed flush rejects every append of it and writes none of them', async () => {
    const path = await tempPath();
    const transport = open({ path, busyTimeoutMs: 20 });
    await transport.ensureTopics([{ name: 't', partitions: 2 }]);
    // Another process holding the write lock longer than the busy timeout makes the flush fail.
    const other = new BetterSqlite3(path);
    other.exec('BEGIN IMMEDIATE');
    const appends = Array.from({ length: 10 }, (_, i) =>
      transport.append([{ topic: 't', partition: i % 2, records: [outgoing('k', `v${i}`)] }]),
    );
    const outcomes = await Promise.allSettled(appends);
    other.exec('ROLLBACK');
    other.close();
    expect(outcomes.map((o) => o.status)).toEqual(Array(10).fill('rejected'));
    expect(
      outcomes.map((o) => (o.status === 'rejected' ? (o.reason as { code?: string }).code : '')),
    ).toEqual(Array(10).fill('SQLITE_BUSY'));
    expect((await transport.offsets('t')).map((o) => o.latest)).toEqual([0n, 0n]);
    expect(await transport.append([{ topic: 't', partition: 0, records: [outgoing('k', 'after')] }])).toEqual(
      [[0n]],
    );
  });

  it('close() writes appends still queued; abort() rejects them and writes nothing', async () => {
    const path = await tempPath();
    const closing = createEmbeddedTransport({ path, maintenanceIntervalMs: 0 });
    await closing.ensureTopics([{ name: 't', partitions: 1 }]);
    const queued = closing.append([{ topic: 't', partition: 0, records: [outgoing('k', 'queued')] }]);
    await closing.close();
    expect(await queued).toEqual([[0n]]);
    await expect(closing.append([])).rejects.toMatchObject({ code: 'KEEL_TRANSPORT_CLOSED' });

    const aborting = createEmbeddedTransport({ path, maintenanceIntervalMs: 0 });
    const lost = aborting.append([{ topic: 't', partition: 0, records: [outgoing('k', 'lost')] }]);
    aborting.abort();
    await expect(lost).rejects.toMatchObject({ code: 'KEEL_TRANSPORT_CLOSED' });

    const reopened = open({ path });
    expect((await reopened.read('t', 0, 0n, 10)).map(text)).toEqual(['queued']);
  });
});

describe('embedded transport: consumers', () => {
  it('wakes a waiting in-process poll within a few milliseconds of an append', async () => {
    const transport = open({ path: await tempPath(), synchronous: 'normal' });
    await transport.ensureTopics([{ name: 't', partitions: 1 }]);
    const consumer = transport.consumer({ group: 'g', topics: ['t'] });
    await pollUntil(consumer, 'assigned', () => consumer.assignment().length === 1, 5_000);
    const latencies: number[] = [];
    for (let i = 0; i < 30; i++) {
      const waiting = consumer.poll(5_000);
      await sleep(1);
      const sent = performance.now();
      void transport.append([{ topic: 't', partition: 0, records: [outgoing('k', `v${i}`)] }]);
      expect((await waiting).map(text)).toEqual([`v${i}`]);
      latencies.push(performance.now() - sent);
    }
    latencies.sort((a, b) => a - b);
    expect(latencies[15]).toBeLessThan(5);
  });

  it('does not let a busy partition starve another', async () => {
    const transport = open({ path: await tempPath() });
    await transport.ensureTopics([{ name: 't', partitions: 2 }]);
    const consumer = transport.consumer({ group: 'g', topics: ['t'], maxRecords: 100 });
    await pollUntil(consumer, 'assigned', () => consumer.assignment().length === 2, 5_000);
    await transport.append([
      {
        topic: 't',
        partition: 0,
        records: Array.from({ length: 2_000 }, (_, i) => outgoing('busy', `${i}`)),
      },
      { topic: 't', partition: 1, records: Array.from({ length: 5 }, (_, i) => outgoing('quiet', `${i}`)) },
    ]);
    const first = await consumer.poll(1_000);
    expect(first).toHaveLength(100);
    expect(first.filter((r) => r.partition === 1)).toHaveLength(5);
  });

  it('fences a member whose session expired while it was alive: commits refused, partitions lost, then it rejoins', async () => {
    const path = await tempPath();
    const one = open({ path });
    const two = open({ path });
    await one.ensureTopics([{ name: 't', partitions: 4 }]);
    const lost: TopicPartition[][] = [];
    const options = { group: 'g', topics: ['t'], sessionTimeoutMs: 400 };
    const a = one.consumer({ ...options, onPartitionsRevoked: async (p) => void lost.push([...p]) });
    const b = two.consumer(options);
    const pollBoth = (cs: Consumer[], what: string, done: () => boolean) =>
      waitUntil(
        what,
        async () => {
          await Promise.all(cs.map((c) => c.poll(20)));
          return done();
        },
        5_000,
      );
    await pollBoth([a, b], 'they share', () => a.assignment().length === 2 && b.assignment().length === 2);
    const aHeld = a.assignment();
    lost.length = 0;

    // Make a's session look expired to everyone else, as a long GC pause or a frozen VM would.
    const raw = new BetterSqlite3(path);
    raw.prepare('UPDATE group_members SET session_timeout_ms = 1 WHERE member_id = ?').run(a.memberId);
    raw.close();
    await pollBoth([b], 'b takes every partition', () => b.assignment().length === 4);
    await expect(a.commit([{ ...aHeld[0]!, offset: 0n }])).rejects.toMatchObject({
      code: 'KEEL_TRANSPORT_NOT_ASSIGNED',
    });

    await pollBoth([a, b], 'a rejoined and they share again', () => a.assignment().length === 2);
    expect(lost[0]?.map(tp).sort()).toEqual(aHeld.map(tp).sort());
    await pollBoth([a, b], 'b released two', () => b.assignment().length === 2);
    await a.commit(a.assignment().map((p) => ({ ...p, offset: 0n })));
  });

  it('closing a member removes its membership and ownership rows', async () => {
    const path = await tempPath();
    const transport = open({ path });
    await transport.ensureTopics([{ name: 't', partitions: 2 }]);
    const consumer = transport.consumer({ group: 'g', topics: ['t'] });
    await pollUntil(consumer, 'assigned', () => consumer.assignment().length === 2, 5_000);
    const raw = new BetterSqlite3(path, { readonly: true });
    const rows = () =>
      raw
        .prepare<[], number>(
          "SELECT (SELECT count(*) FROM group_members WHERE group_id = 'g') + (SELECT count(*) FROM partition_owners WHERE group_id = 'g')",
        )
        .pluck()
        .get();
    expect(rows()).toBe(3);
    await consumer.close();
    expect(rows()).toBe(0);
    raw.close();
    await expect(consumer.poll(0)).rejects.toMatchObject({ code: 'KEEL_TRANSPORT_CLOSED' });
  });

  it('gives a member the partitions of a topic another process creates after it subscribed', async () => {
    const path = await tempPath();
    const transport = open({ path });
    const consumer = transport.consumer({ group: 'g', topics: ['later'] });
    expect(await consumer.poll(30)).toEqual([]);
    expect(consumer.assignment()).toEqual([]);
    const other = open({ path });
    await other.ensureTopics([{ name: 'later', partitions: 2 }]);
    await other.append([{ topic: 'later', partition: 1, records: [outgoing('k', 'first')] }]);
    const got = await pollUntil(consumer, 'the record', (r) => r.length === 1, 5_000);
    expect(got.map(text)).toEqual(['first']);
    expect(consumer.assignment()).toEqual([
      { topic: 'later', partition: 0 },
      { topic: 'later', partition: 1 },
    ]);
  });

  it('refuses a second poll while one is running, and a heartbeat interval not below the session timeout', async () => {
    const transport = open({ path: await tempPath() });
    await transport.ensureTopics([{ name: 't', partitions: 1 }]);
    const consumer = transport.consumer({ group: 'g', topics: ['t'] });
    const first = consumer.poll(50);
    await expect(consumer.poll(50)).rejects.toMatchObject({ code: 'KEEL_TRANSPORT_CONSUMER_BUSY' });
    await first;
    expect(() =>
      transport.consumer({ group: 'g', topics: ['t'], sessionTimeoutMs: 100, heartbeatIntervalMs: 100 }),
    ).toThrow(OptionsError);
    expect(() =>
      transport.consumer({ group: 'g', topics: ['t'], sessionTimeoutMs: 100, heartbeatIntervalMs: 100 }),
    ).toThrow(/consumer\.heartbeatIntervalMs: must be below sessionTimeoutMs \(100\), got 100/);
  });

  it('works on a private :memory: database', async () => {
    const transport = open({ path: ':memory:' });
    await transport.ensureTopics([{ name: 't', partitions: 1 }]);
    await transport.append([{ topic: 't', partition: 0, records: [outgoing('k', 'v')] }]);
    const consumer = transport.consumer({ group: 'g', topics: ['t'] });
    expect((await pollUntil(consumer, 'one record', (r) => r.length === 1, 5_000)).map(text)).toEqual(['v']);
  });
});

describe('embedded transport: maintenance', () => {
  it('keeps a compacted tombstone for tombstoneRetentionMs, then drops it without new writes', async () => {
    const transport = open({ path: await tempPath(), tombstoneRetentionMs: 300 });
    await transport.ensureTopics([{ name: 'c', partitions: 1, compacted: true }]);
    await transport.append([
      {
        topic: 'c',
        partition: 0,
        records: [outgoing('k1', 'a'), outgoing('k2', 'a'), outgoing('k2', null), outgoing('k1', 'b')],
      },
    ]);
    await transport.maintain();
    expect((await transport.read('c', 0, 0n, 10)).map((r) => [r.offset, r.key, text(r)])).toEqual([
      [2n, 'k2', null],
      [3n, 'k1', 'b'],
    ]);
    expect((await transport.offsets('c'))[0]).toMatchObject({ earliest: 2n, latest: 4n });
    await sleep(350);
    await transport.maintain();
    expect((await transport.read('c', 0, 0n, 10)).map((r) => [r.offset, r.key, text(r)])).toEqual([
      [3n, 'k1', 'b'],
    ]);
    expect((await transport.offsets('c'))[0]).toMatchObject({ earliest: 3n, latest: 4n });
  });

  it('runs retention on its own every maintenanceIntervalMs', async () => {
    const transport = open({ path: await tempPath(), maintenanceIntervalMs: 20 });
    await transport.ensureTopics([{ name: 'r', partitions: 1, retentionMs: 1_000 }]);
    await transport.append([
      {
        topic: 'r',
        partition: 0,
        records: [outgoing('k', 'old', { timestamp: Date.now() - 60_000 }), outgoing('k', 'new')],
      },
    ]);
    await waitUntil(
      'the old record is gone',
      async () => (await transport.offsets('r'))[0]?.earliest === 1n,
      5_000,
    );
    expect((await transport.read('r', 0, 0n, 10)).map(text)).toEqual(['new']);
  });
});
