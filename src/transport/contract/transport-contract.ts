import { afterEach, beforeEach, describe, expect, it as vitestIt } from 'vitest';
import type { Consumer, StoredRecord, TopicPartition, Transport } from '../transport.ts';
import {
  duplicates,
  type Member,
  outgoing,
  pollUntil,
  sleep,
  startMember,
  text,
  tp,
  waitUntil,
} from './contract-helpers.ts';

/** A second client of the same backing store, as another process would have. */
export interface ContractClient {
  transport: Transport;
  /**
   * Stops the client without leaving its groups or flushing anything, as if its process were killed:
   * its members must then be expired by the session timeout, not by a leave. On Kafka that means no
   * LeaveGroup request (kill the client's process or drop its sockets) so the coordinator expires it.
   */
  crash(): Promise<void>;
}

/** What an adapter's test gives the contract suite; `setup` makes a fresh one for every test. */
export interface ContractHarness {
  /** The transport under test. */
  transport: Transport;
  /** Opens another client on the same backing store (another process, another connection). */
  connect(): Promise<ContractClient>;
  /** A topic name no other test (or earlier run) uses, built from `label`. */
  topicName(label: string): string;
  /** A consumer group id no other test (or earlier run) uses, built from `label`. */
  groupName(label: string): string;
  /**
   * Session timeout (ms) for the test of a silent member: short, but one the backend accepts
   * (on Kafka, within the brokers' `group.min.session.timeout.ms`/`group.max.session.timeout.ms`).
   */
  sessionTimeoutMs: number;
  /** Closes every client the harness opened and removes what it created where it can. */
  cleanup(): Promise<void>;
}

/**
 * The Transport contract: the behaviour every adapter must show, written against the port only.
 * Tests that depend on a capability say in their name which variant runs.
 */
export function describeTransportContract(name: string, setup: () => Promise<ContractHarness>): void {
  describe(`Transport contract: ${name}`, async () => {
    const probe = await setup();
    const { atomicMultiPartitionAppend, onDemandMaintenance } = probe.transport.capabilities;
    const sessionTimeoutMs = probe.sessionTimeoutMs;
    await probe.cleanup();
    // How long a test waits for something that should happen promptly (rebalances are slow on Kafka).
    const patience = Math.max(10_000, sessionTimeoutMs * 3);
    const testTimeout = patience * 3;

    let h: ContractHarness;
    let transport: Transport;
    const members: Member[] = [];
    const consumers: Consumer[] = [];

    beforeEach(async () => {
      h = await setup();
      transport = h.transport;
    });
    afterEach(async () => {
      await Promise.allSettled(members.splice(0).map((m) => m.stop()));
      await Promise.allSettled(consumers.splice(0).map((c) => c.close()));
      await h.cleanup();
    });

    // Every test gets the same time budget, scaled to the backend's pace.
    const it = (title: string, body: () => Promise<void>, timeout = testTimeout): void => {
      vitestIt(title, body, timeout);
    };
    const member = (t: Transport, options: Parameters<typeof startMember>[1]): Member => {
      const m = startMember(t, options);
      members.push(m);
      return m;
    };
    const consumer = (t: Transport, options: Parameters<Transport['consumer']>[0]): Consumer => {
      const c = t.consumer(options);
      consumers.push(c);
      return c;
    };
    const topic = async (label: string, partitions: number, extra: Record<string, unknown> = {}) => {
      const topicName = h.topicName(label);
      await transport.ensureTopics([{ name: topicName, partitions, ...extra }]);
      return topicName;
    };
    const fill = async (
      topicName: string,
      partitions: number,
      count: number,
      prefix = 'v',
    ): Promise<void> => {
      const writes = Array.from({ length: partitions }, (_, partition) => ({
        topic: topicName,
        partition,
        records: [] as ReturnType<typeof outgoing>[],
      }));
      for (let i = 0; i < count; i++)
        writes[i % partitions]!.records.push(outgoing(`k${i}`, `${prefix}${i}`));
      await transport.append(writes.filter((w) => w.records.length > 0));
    };
    const partitionsOf = (topicName: string, count: number): TopicPartition[] =>
      Array.from({ length: count }, (_, partition) => ({ topic: topicName, partition }));
    const held = (...cs: Consumer[]): string[] => cs.flatMap((c) => c.assignment().map(tp)).sort();
    const expectExactlyOnce = (records: readonly StoredRecord[], expected: number): void => {
      expect(duplicates(records)).toEqual([]);
      expect(records).toHaveLength(expected);
    };
    const expectOrderedPerPartition = (records: readonly StoredRecord[]): void => {
      const last = new Map<string, bigint>();
      for (const record of records) {
        const previous = last.get(tp(record));
        if (previous !== undefined) expect(record.offset).toBeGreaterThan(previous);
        last.set(tp(record), record.offset);
      }
    };

    describe('topics', () => {
      it('ensureTopics creates a topic with N partitions and leaves an existing one as it is', async () => {
        const name = h.topicName('layout');
        await transport.ensureTopics([{ name, partitions: 3 }]);
        await transport.ensureTopics([{ name, partitions: 5 }]);
        expect((await transport.describeTopic(name))?.partitions).toBe(3);
        const offsets = await transport.offsets(name);
        expect(offsets.map((o) => [o.partition, o.earliest, o.latest])).toEqual([
          [0, 0n, 0n],
          [1, 0n, 0n],
          [2, 0n, 0n],
        ]);
      });

      it('describeTopic returns layout and cleanup policy, and undefined for an unknown topic', async () => {
        const compacted = h.topicName('described');
        const kept = h.topicName('retained');
        await transport.ensureTopics([
          { name: compacted, partitions: 2, compacted: true },
          { name: kept, partitions: 1, retentionMs: 3_600_000 },
        ]);
        expect(await transport.describeTopic(compacted)).toMatchObject({
          name: compacted,
          partitions: 2,
          compacted: true,
        });
        expect(await transport.describeTopic(kept)).toMatchObject({
          name: kept,
          partitions: 1,
          retentionMs: 3_600_000,
        });
        expect((await transport.describeTopic(kept))?.compacted ?? false).toBe(false);
        expect(await transport.describeTopic(h.topicName('missing'))).toBeUndefined();
      });

      it('listTopics names every topic, including those another client created', async () => {
        const mine = await topic('listed-a', 1);
        const client = await h.connect();
        const theirs = h.topicName('listed-b');
        await client.transport.ensureTopics([{ name: theirs, partitions: 2 }]);
        const names = await transport.listTopics();
        expect(names).toContain(mine);
        expect(names).toContain(theirs);
        expect((await transport.describeTopic(theirs))?.partitions).toBe(2);
      });
    });

    describe('sizes', () => {
      it('sizes reports the bytes each partition holds, growing with what is appended', async () => {
        const name = await topic('sized', 2);
        expect(await transport.sizes(name)).toEqual([
          { partition: 0, bytes: 0 },
          { partition: 1, bytes: 0 },
        ]);
        const value = new Uint8Array(10_000).fill(7);
        await transport.append([
          {
            topic: name,
            partition: 1,
            records: Array.from({ length: 5 }, () => ({ key: 'k', value, headers: {} })),
          },
        ]);
        const sizes = await transport.sizes(name);
        expect(sizes[0]).toEqual({ partition: 0, bytes: 0 });
        // At least the values; the adapter's own framing (Kafka batches, SQLite rows) on top.
        expect(sizes[1]!.bytes).toBeGreaterThanOrEqual(5 * value.byteLength);
        await expect(transport.sizes(h.topicName('absent'))).rejects.toThrow();
      });
    });

    describe('append and read', () => {
      it('append to a partition returns consecutive offsets and read returns the records intact', async () => {
        const name = await topic('append', 2);
        const binary = new Uint8Array([0, 1, 127, 128, 255]);
        const before = Date.now();
        const first = await transport.append([
          {
            topic: name,
            partition: 1,
            records: [
              outgoing('patient-1', 'admitted', {
                headers: { ce_type: 'admitted', ce_id: 'a1' },
                timestamp: 1_700_000_000_000,
              }),
              { key: null, value: binary, headers: {} },
              outgoing('patient-1', null),
            ],
          },
        ]);
        const after = Date.now();
        expect(first).toEqual([[0n, 1n, 2n]]);
        expect(
          await transport.append([
            { topic: name, partition: 1, records: [outgoing('k', 'x'), outgoing('k', 'y')] },
          ]),
        ).toEqual([[3n, 4n]]);
        const records = await transport.read(name, 1, 0n, 100);
        expect(records.map((r) => [r.topic, r.partition, r.offset])).toEqual([
          [name, 1, 0n],
          [name, 1, 1n],
          [name, 1, 2n],
          [name, 1, 3n],
          [name, 1, 4n],
        ]);
        const [admitted, raw, tombstone] = records;
        expect(admitted?.key).toBe('patient-1');
        expect(text(admitted!)).toBe('admitted');
        expect(admitted?.headers).toEqual({ ce_type: 'admitted', ce_id: 'a1' });
        expect(admitted?.timestamp).toBe(1_700_000_000_000);
        expect(raw?.key).toBeNull();
        expect(Array.from(raw?.value ?? [])).toEqual([0, 1, 127, 128, 255]);
        expect(raw?.headers).toEqual({});
        expect(raw?.timestamp).toBeGreaterThanOrEqual(before - 1);
        expect(raw?.timestamp).toBeLessThanOrEqual(after + 1);
        expect(tombstone?.value).toBeNull();
        expect(await transport.read(name, 0, 0n, 10)).toEqual([]);
      });

      it('one append call writes to several partitions and returns the offsets of each write in order', async () => {
        const name = await topic('multi', 3);
        await transport.append([{ topic: name, partition: 2, records: [outgoing('a', 'seed')] }]);
        const offsets = await transport.append([
          { topic: name, partition: 0, records: [outgoing('a', 'p0-0'), outgoing('a', 'p0-1')] },
          { topic: name, partition: 2, records: [outgoing('b', 'p2-1')] },
          { topic: name, partition: 1, records: [] },
          { topic: name, partition: 0, records: [outgoing('c', 'p0-2')] },
        ]);
        expect(offsets).toEqual([[0n, 1n], [1n], [], [2n]]);
        expect((await transport.read(name, 0, 0n, 10)).map(text)).toEqual(['p0-0', 'p0-1', 'p0-2']);
        expect((await transport.read(name, 2, 0n, 10)).map(text)).toEqual(['seed', 'p2-1']);
      });

      it('concurrent appends to one partition get distinct, gap-free offsets', async () => {
        const name = await topic('concurrent', 1);
        const client = await h.connect();
        const results = await Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            (i % 2 === 0 ? transport : client.transport).append([
              { topic: name, partition: 0, records: [outgoing(`k${i}`, `v${i}`)] },
            ]),
          ),
        );
        const offsets = results.map((r) => r[0]?.[0]).sort((a, b) => (a! < b! ? -1 : 1));
        expect(offsets).toEqual(Array.from({ length: 40 }, (_, i) => BigInt(i)));
        const stored = await transport.read(name, 0, 0n, 100);
        results.forEach((r, i) => {
          expect(text(stored[Number(r[0]?.[0])]!)).toBe(`v${i}`);
        });
      });

      it('read starts at any offset, honours maxRecords, and is empty at or past the end', async () => {
        const name = await topic('read', 1);
        await fill(name, 1, 10);
        expect((await transport.read(name, 0, 4n, 3)).map((r) => r.offset)).toEqual([4n, 5n, 6n]);
        expect((await transport.read(name, 0, 8n, 100)).map(text)).toEqual(['v8', 'v9']);
        expect(await transport.read(name, 0, 10n, 100)).toEqual([]);
        expect(await transport.read(name, 0, 1_000n, 100)).toEqual([]);
      });

      it('offsets() reports earliest and latest of every partition', async () => {
        const name = await topic('offsets', 2);
        await fill(name, 2, 7);
        expect(await transport.offsets(name)).toEqual([
          { topic: name, partition: 0, earliest: 0n, latest: 4n },
          { topic: name, partition: 1, earliest: 0n, latest: 3n },
        ]);
      });

      it('append to an unknown topic or partition is refused with an UnknownTopicError', async () => {
        const name = await topic('known', 2);
        await expect(
          transport.append([{ topic: h.topicName('unknown'), partition: 0, records: [outgoing('k', 'v')] }]),
        ).rejects.toMatchObject({ code: 'KEEL_TRANSPORT_UNKNOWN_TOPIC' });
        await expect(
          transport.append([{ topic: name, partition: 2, records: [outgoing('k', 'v')] }]),
        ).rejects.toMatchObject({ code: 'KEEL_TRANSPORT_UNKNOWN_TOPIC' });
        await expect(transport.offsets(h.topicName('unknown'))).rejects.toMatchObject({
          code: 'KEEL_TRANSPORT_UNKNOWN_TOPIC',
        });
      });

      it(
        atomicMultiPartitionAppend
          ? 'append with one bad write writes nothing of the call (atomicMultiPartitionAppend)'
          : 'append with one bad write is refused (no atomicMultiPartitionAppend: other writes may land)',
        async () => {
          const name = await topic('atomic', 2);
          await expect(
            transport.append([
              { topic: name, partition: 0, records: [outgoing('k', 'v')] },
              { topic: name, partition: 9, records: [outgoing('k', 'v')] },
            ]),
          ).rejects.toMatchObject({ code: 'KEEL_TRANSPORT_UNKNOWN_TOPIC' });
          const latest = (await transport.offsets(name))[0]?.latest;
          if (atomicMultiPartitionAppend) expect(latest).toBe(0n);
          else expect(latest === 0n || latest === 1n).toBe(true);
        },
      );
    });

    describe('atomic append', () => {
      it('appendAtomically writes across topics and partitions, and readers and members see every record', async () => {
        const orders = await topic('atomic-orders', 2);
        const audit = await topic('atomic-audit', 1);
        await transport.append([{ topic: orders, partition: 1, records: [outgoing('a', 'seed')] }]);
        const offsets = await transport.appendAtomically([
          { topic: orders, partition: 0, records: [outgoing('a', 'o0-0'), outgoing('a', 'o0-1')] },
          { topic: audit, partition: 0, records: [outgoing('a', 'audit-0')] },
          { topic: orders, partition: 1, records: [outgoing('b', 'o1-1')] },
          { topic: orders, partition: 0, records: [] },
        ]);
        expect(offsets).toEqual([[0n, 1n], [0n], [1n], []]);
        // A plain append after it lands behind it, at the offset it was given.
        const [[after]] = (await transport.append([
          { topic: orders, partition: 0, records: [outgoing('a', 'o0-2')] },
        ])) as [[bigint]];
        const read = await transport.read(orders, 0, 0n, 10);
        expect(read.map(text)).toEqual(['o0-0', 'o0-1', 'o0-2']);
        expect(read.map((r) => r.offset)).toEqual([0n, 1n, after]);
        expect((await transport.read(orders, 1, 0n, 10)).map(text)).toEqual(['seed', 'o1-1']);
        expect((await transport.read(audit, 0, 0n, 10)).map(text)).toEqual(['audit-0']);
        const m = member(transport, { group: h.groupName('atomic'), topics: [orders, audit] });
        await waitUntil('6 records arrived', () => m.records.length >= 6, patience);
        await sleep(100);
        expectExactlyOnce(m.records, 6);
        expect(new Set(m.records.map(text))).toEqual(
          new Set(['seed', 'o0-0', 'o0-1', 'o1-1', 'o0-2', 'audit-0']),
        );
      });

      it('appendAtomically with one bad write is refused and writes nothing of the call', async () => {
        const name = await topic('atomic-refused', 2);
        await expect(
          transport.appendAtomically([
            { topic: name, partition: 0, records: [outgoing('k', 'v')] },
            { topic: name, partition: 9, records: [outgoing('k', 'v')] },
          ]),
        ).rejects.toMatchObject({ code: 'KEEL_TRANSPORT_UNKNOWN_TOPIC' });
        await expect(
          transport.appendAtomically([
            { topic: name, partition: 1, records: [outgoing('k', 'v')] },
            { topic: h.topicName('atomic-missing'), partition: 0, records: [outgoing('k', 'v')] },
          ]),
        ).rejects.toMatchObject({ code: 'KEEL_TRANSPORT_UNKNOWN_TOPIC' });
        expect((await transport.offsets(name)).map((p) => p.latest)).toEqual([0n, 0n]);
        expect(await transport.read(name, 0, 0n, 10)).toEqual([]);
      });

      it('concurrent atomic appends from two clients, mixed with plain ones, each land whole where they say', async () => {
        const name = await topic('atomic-concurrent', 2);
        const client = await h.connect();
        const atomic = Array.from({ length: 20 }, (_, i) =>
          (i % 2 === 0 ? transport : client.transport).appendAtomically([
            {
              topic: name,
              partition: 0,
              records: [outgoing(`t${i}`, `t${i}-a`), outgoing(`t${i}`, `t${i}-b`)],
            },
            { topic: name, partition: 1, records: [outgoing(`t${i}`, `t${i}-c`)] },
          ]),
        );
        const plain = Array.from({ length: 20 }, (_, i) =>
          transport.append([{ topic: name, partition: i % 2, records: [outgoing(`p${i}`, `p${i}`)] }]),
        );
        const [atomicOffsets, plainOffsets] = await Promise.all([Promise.all(atomic), Promise.all(plain)]);
        const stored = new Map<string, string | null>();
        for (const partition of [0, 1])
          for (const record of await transport.read(name, partition, 0n, 1_000))
            stored.set(`${partition}@${record.offset}`, text(record));
        expect(stored.size).toBe(80);
        atomicOffsets.forEach(([p0, p1], i) => {
          expect([stored.get(`0@${p0![0]}`), stored.get(`0@${p0![1]}`), stored.get(`1@${p1![0]}`)]).toEqual([
            `t${i}-a`,
            `t${i}-b`,
            `t${i}-c`,
          ]);
        });
        plainOffsets.forEach((offsets, i) => {
          expect(stored.get(`${i % 2}@${offsets[0]![0]}`)).toBe(`p${i}`);
        });
      });
    });

    describe('consumer groups', () => {
      it('a single member gets every partition and each record once, in offset order per partition', async () => {
        const name = await topic('single', 3);
        await fill(name, 3, 30);
        const m = member(transport, { group: h.groupName('single'), topics: [name], maxRecords: 7 });
        await waitUntil('30 records arrived', () => m.records.length >= 30, patience);
        await sleep(100);
        expectExactlyOnce(m.records, 30);
        expectOrderedPerPartition(m.records);
        expect(m.consumer.assignment()).toEqual(partitionsOf(name, 3));
        expect(new Set(m.records.map(text))).toEqual(new Set(Array.from({ length: 30 }, (_, i) => `v${i}`)));
        expect(m.errors).toEqual([]);
      });

      it('two members share the partitions with no overlap and see every record exactly once', async () => {
        const name = await topic('shared', 4);
        const group = h.groupName('shared');
        const client = await h.connect();
        const a = member(transport, { group, topics: [name] });
        const b = member(client.transport, { group, topics: [name] });
        await waitUntil(
          'both members hold two partitions',
          () => a.consumer.assignment().length === 2 && b.consumer.assignment().length === 2,
          patience,
        );
        expect(held(a.consumer, b.consumer)).toEqual(partitionsOf(name, 4).map(tp).sort());
        await fill(name, 4, 200);
        await waitUntil('200 records arrived', () => a.records.length + b.records.length >= 200, patience);
        await sleep(100);
        const all = [...a.records, ...b.records];
        expectExactlyOnce(all, 200);
        expectOrderedPerPartition(all);
        const aPartitions = new Set(a.records.map(tp));
        expect(b.records.some((r) => aPartitions.has(tp(r)))).toBe(false);
        expect([...a.errors, ...b.errors]).toEqual([]);
      });

      it('committed offsets outlive the member: a new member resumes after the last commit', async () => {
        const name = await topic('resume', 1);
        const group = h.groupName('resume');
        await fill(name, 1, 10);
        const first = consumer(transport, { group, topics: [name], maxRecords: 4 });
        const got = await pollUntil(first, 'four records', (r) => r.length >= 4, patience);
        expect(got.slice(0, 4).map((r) => r.offset)).toEqual([0n, 1n, 2n, 3n]);
        // Re-polling continues from the position, not from the commit.
        await first.commit([{ topic: name, partition: 0, offset: 3n }]);
        const next = await pollUntil(first, 'more records', (r) => r.length > 0, patience);
        expect(next[0]?.offset).toBe(got.at(-1)!.offset + 1n);
        await first.close();
        const second = consumer(transport, { group, topics: [name] });
        const resumed = await pollUntil(second, 'records after the commit', (r) => r.length >= 7, patience);
        expect(resumed.map((r) => r.offset)).toEqual([3n, 4n, 5n, 6n, 7n, 8n, 9n]);
        expect((await transport.groupLag(group, [name]))[0]?.committed).toBe(3n);
      });

      it('a member that leaves hands its partitions over only after its onPartitionsRevoked finished', async () => {
        const name = await topic('leave', 4);
        const group = h.groupName('leave');
        const client = await h.connect();
        const log: string[] = [];
        const a = member(transport, {
          group,
          topics: [name],
          sessionTimeoutMs: 30_000,
          onPartitionsAssigned: async (partitions) => {
            for (const p of partitions) log.push(`a assigned ${tp(p)}`);
          },
        });
        const b = member(client.transport, {
          group,
          topics: [name],
          sessionTimeoutMs: 30_000,
          onPartitionsRevoked: async (partitions) => {
            if (partitions.length === 0) return;
            log.push('b revoking');
            await sleep(200);
            log.push('b revoked');
          },
        });
        await waitUntil(
          'the members share the partitions',
          () => b.consumer.assignment().length === 2,
          patience,
        );
        await waitUntil('a holds two partitions', () => a.consumer.assignment().length === 2, patience);
        const bPartitions = b.consumer.assignment().map(tp);
        await fill(name, 4, 100, 'first-');
        await waitUntil('100 records arrived', () => a.records.length + b.records.length >= 100, patience);
        log.length = 0;
        const leaving = Date.now();
        const stopping = b.stop();
        await fill(name, 4, 100, 'second-');
        await stopping;
        await waitUntil('a holds every partition', () => a.consumer.assignment().length === 4, patience);
        // A clean leave moves partitions at once, not after the 30 s session timeout.
        expect(Date.now() - leaving).toBeLessThan(15_000);
        await waitUntil('200 records arrived', () => a.records.length + b.records.length >= 200, patience);
        await sleep(100);
        const revokedAt = log.indexOf('b revoked');
        expect(revokedAt).toBeGreaterThanOrEqual(0);
        for (const p of bPartitions) expect(log.indexOf(`a assigned ${p}`)).toBeGreaterThan(revokedAt);
        // b committed what it processed while revoking, so nothing is seen twice.
        expectExactlyOnce([...a.records, ...b.records], 200);
        expect([...a.errors, ...b.errors]).toEqual([]);
      });

      it('a joining member gets partitions only after the holder finished onPartitionsRevoked', async () => {
        const name = await topic('join', 2);
        const group = h.groupName('join');
        const log: string[] = [];
        const a = member(transport, {
          group,
          topics: [name],
          onPartitionsRevoked: async (partitions) => {
            if (partitions.length === 0) return;
            log.push('a revoking');
            await sleep(200);
            log.push('a revoked');
          },
        });
        await waitUntil('a holds both partitions', () => a.consumer.assignment().length === 2, patience);
        const client = await h.connect();
        const b = member(client.transport, {
          group,
          topics: [name],
          onPartitionsAssigned: async (partitions) => {
            if (partitions.length > 0) log.push('b assigned');
          },
        });
        await waitUntil('b holds a partition', () => b.consumer.assignment().length === 1, patience);
        await waitUntil('a holds one partition', () => a.consumer.assignment().length === 1, patience);
        expect(log.indexOf('a revoked')).toBeGreaterThanOrEqual(0);
        expect(log.indexOf('b assigned')).toBeGreaterThan(log.indexOf('a revoked'));
        expect(held(a.consumer, b.consumer)).toEqual(partitionsOf(name, 2).map(tp).sort());
      });

      it(
        `a member that stops heartbeating loses its partitions after the session timeout (${sessionTimeoutMs} ms)`,
        async () => {
          const name = await topic('silent', 4);
          const group = h.groupName('silent');
          const client = await h.connect();
          const options = { group, topics: [name], sessionTimeoutMs };
          const a = member(transport, options);
          const b = member(client.transport, options);
          await waitUntil(
            'the members share the partitions',
            () => a.consumer.assignment().length === 2 && b.consumer.assignment().length === 2,
            patience,
          );
          const bPartitions = new Set(b.consumer.assignment().map(tp));
          await fill(name, 4, 40, 'before-');
          await waitUntil(
            'everything is consumed and committed',
            async () => (await transport.groupLag(group, [name])).every((lag) => lag.lag === 0n),
            patience,
          );
          const crashedAt = Date.now();
          await client.crash();
          await fill(name, 4, 40, 'after-');
          await waitUntil('a holds every partition', () => a.consumer.assignment().length === 4, patience);
          // Not at once: only the session timeout (less one heartbeat interval at most) tells a crash.
          expect(Date.now() - crashedAt).toBeGreaterThanOrEqual(sessionTimeoutMs / 2);
          await waitUntil(
            'a consumed the records written after the crash',
            () => a.records.filter((r) => text(r)?.startsWith('after-')).length >= 40,
            patience,
          );
          await sleep(100);
          // a resumed b's partitions from b's commits: none of b's committed records came back.
          const fromB = a.records.filter((r) => bPartitions.has(tp(r)));
          expect(fromB.length).toBeGreaterThan(0);
          expect(fromB.every((r) => text(r)?.startsWith('after-'))).toBe(true);
          expectExactlyOnce(
            a.records.filter((r) => text(r)?.startsWith('after-')),
            40,
          );
        },
        Math.max(testTimeout, sessionTimeoutMs * 6),
      );

      it('a commit for a partition the member no longer holds is refused with NotAssignedError', async () => {
        const name = await topic('fenced', 2);
        const other = await topic('other', 1);
        const group = h.groupName('fenced');
        const a = consumer(transport, { group, topics: [name] });
        await pollUntil(a, 'a holds both partitions', () => a.assignment().length === 2, patience);
        await expect(a.commit([{ topic: other, partition: 0, offset: 1n }])).rejects.toMatchObject({
          code: 'KEEL_TRANSPORT_NOT_ASSIGNED',
        });
        const client = await h.connect();
        const b = consumer(client.transport, { group, topics: [name] });
        await waitUntil(
          'each member holds one partition',
          async () => {
            await Promise.all([a.poll(20), b.poll(20)]);
            return a.assignment().length === 1 && b.assignment().length === 1;
          },
          patience,
        );
        const moved = b.assignment()[0]!;
        await expect(a.commit([{ ...moved, offset: 1n }])).rejects.toMatchObject({
          code: 'KEEL_TRANSPORT_NOT_ASSIGNED',
        });
        // Refused as a whole: the partition a still holds was not committed either.
        const kept = a.assignment()[0]!;
        await expect(
          a.commit([
            { ...kept, offset: 1n },
            { ...moved, offset: 1n },
          ]),
        ).rejects.toMatchObject({ code: 'KEEL_TRANSPORT_NOT_ASSIGNED' });
        expect((await transport.groupLag(group, [name])).map((l) => l.committed)).toEqual([null, null]);
        await b.commit([{ ...moved, offset: 0n }]);
        await a.commit([{ ...kept, offset: 0n }]);
        expect((await transport.groupLag(group, [name])).map((l) => l.committed)).toEqual([0n, 0n]);
      });

      it('appendAndCommit appends and commits in one step, and writes nothing for a partition the member does not hold', async () => {
        const source = await topic('move-src', 2);
        const target = await topic('move-dst', 2);
        const group = h.groupName('move');
        await fill(source, 2, 4);
        const a = consumer(transport, { group, topics: [source] });
        await pollUntil(a, 'a holds both partitions', () => a.assignment().length === 2, patience);
        await a.appendAndCommit(
          [{ topic: target, partition: 1, records: [outgoing('k', 'moved')] }],
          [{ topic: source, partition: 0, offset: 1n }],
        );
        expect((await transport.read(target, 1, 0n, 10)).map(text)).toEqual(['moved']);
        expect((await transport.groupLag(group, [source])).map((l) => l.committed)).toEqual([1n, null]);
        const elsewhere = await topic('move-other', 1);
        await expect(
          a.appendAndCommit(
            [{ topic: target, partition: 0, records: [outgoing('k', 'never')] }],
            [{ topic: elsewhere, partition: 0, offset: 1n }],
          ),
        ).rejects.toMatchObject({ code: 'KEEL_TRANSPORT_NOT_ASSIGNED' });
        expect(await transport.read(target, 0, 0n, 10)).toEqual([]);
      });

      it('coPartitioned members get partition i of every topic together', async () => {
        const first = await topic('co-a', 4);
        const second = await topic('co-b', 4);
        const group = h.groupName('co');
        const options = { group, topics: [first, second], coPartitioned: true };
        const a = consumer(transport, options);
        const client = await h.connect();
        const b = consumer(client.transport, options);
        await waitUntil(
          'the members share the partitions',
          async () => {
            await Promise.all([a.poll(20), b.poll(20)]);
            return a.assignment().length === 4 && b.assignment().length === 4;
          },
          patience,
        );
        for (const c of [a, b]) {
          const numbers = (name: string) =>
            c
              .assignment()
              .filter((p) => p.topic === name)
              .map((p) => p.partition);
          expect(numbers(first)).toEqual(numbers(second));
        }
      });

      it('startFrom latest skips the records written before the group first joined', async () => {
        const name = await topic('latest', 2);
        await fill(name, 2, 6, 'old-');
        const c = consumer(transport, { group: h.groupName('latest'), topics: [name], startFrom: 'latest' });
        const early = await pollUntil(
          c,
          'both partitions are assigned',
          () => c.assignment().length === 2,
          patience,
        );
        expect(early).toEqual([]);
        await fill(name, 2, 4, 'new-');
        const got = await pollUntil(c, 'the new records', (r) => r.length >= 4, patience);
        expect(got.map(text).sort()).toEqual(['new-0', 'new-1', 'new-2', 'new-3']);
      });

      it('different groups consume the same records independently', async () => {
        const name = await topic('groups', 2);
        await fill(name, 2, 20);
        const first = member(transport, { group: h.groupName('first'), topics: [name] });
        const second = member(transport, { group: h.groupName('second'), topics: [name] });
        await waitUntil(
          'both groups got 20 records',
          () => first.records.length >= 20 && second.records.length >= 20,
          patience,
        );
        await sleep(100);
        expectExactlyOnce(first.records, 20);
        expectExactlyOnce(second.records, 20);
      });

      it('groupLag reports committed, latest and lag per partition', async () => {
        const name = await topic('lag', 2);
        const group = h.groupName('lag');
        await transport.append([
          { topic: name, partition: 0, records: [1, 2, 3, 4, 5].map((i) => outgoing('a', `${i}`)) },
          { topic: name, partition: 1, records: [1, 2, 3].map((i) => outgoing('b', `${i}`)) },
        ]);
        expect(await transport.groupLag(group, [name])).toEqual([
          { topic: name, partition: 0, committed: null, latest: 5n, lag: 5n },
          { topic: name, partition: 1, committed: null, latest: 3n, lag: 3n },
        ]);
        const c = consumer(transport, { group, topics: [name] });
        await pollUntil(c, 'both partitions are assigned', () => c.assignment().length === 2, patience);
        await c.commit([{ topic: name, partition: 0, offset: 2n }]);
        expect(await transport.groupLag(group, [name])).toEqual([
          { topic: name, partition: 0, committed: 2n, latest: 5n, lag: 3n },
          { topic: name, partition: 1, committed: null, latest: 3n, lag: 3n },
        ]);
      });

      it('pause stops records from a partition until it is resumed', async () => {
        const name = await topic('pause', 2);
        const c = consumer(transport, { group: h.groupName('pause'), topics: [name] });
        await pollUntil(c, 'both partitions are assigned', () => c.assignment().length === 2, patience);
        c.pause([{ topic: name, partition: 0 }]);
        await fill(name, 2, 10);
        const unpaused = await pollUntil(c, 'partition 1 records', (r) => r.length >= 5, patience);
        for (let i = 0; i < 3; i++) unpaused.push(...(await c.poll(50)));
        expect(unpaused.map((r) => r.partition)).toEqual([1, 1, 1, 1, 1]);
        c.resume([{ topic: name, partition: 0 }]);
        const resumed = await pollUntil(c, 'partition 0 records', (r) => r.length >= 5, patience);
        expect(resumed.map((r) => [r.partition, r.offset])).toEqual([0n, 1n, 2n, 3n, 4n].map((o) => [0, o]));
      });

      it('a waiting poll returns promptly when another client appends', async () => {
        const name = await topic('wake', 1);
        const c = consumer(transport, { group: h.groupName('wake'), topics: [name] });
        await pollUntil(c, 'the partition is assigned', () => c.assignment().length === 1, patience);
        const client = await h.connect();
        const waiting = c.poll(patience);
        await sleep(50);
        const sent = Date.now();
        await client.transport.append([{ topic: name, partition: 0, records: [outgoing('k', 'ping')] }]);
        const got = await waiting;
        expect(got.map(text)).toEqual(['ping']);
        expect(Date.now() - sent).toBeLessThan(1_000);
      });
    });

    describe('retention and compaction', () => {
      // Without onDemandMaintenance the backend cleans up on its own schedule (Kafka's log cleaner): the
      // tests then check that the topic carries the setting and that nothing is lost before it acts.
      const note = onDemandMaintenance
        ? 'after maintain()'
        : '(no onDemandMaintenance: checks the topic carries the setting, maintain() resolves and records stay readable)';

      it(`retention by age deletes records older than retentionMs and moves the log start ${note}`, async () => {
        const name = await topic('age', 1, { retentionMs: 60_000 });
        expect(await transport.describeTopic(name)).toMatchObject({ retentionMs: 60_000 });
        const group = h.groupName('age');
        const old = Date.now() - 600_000;
        await transport.append([
          {
            topic: name,
            partition: 0,
            records: [
              ...[0, 1, 2, 3].map((i) => outgoing(`k${i}`, `old-${i}`, { timestamp: old + i })),
              ...[4, 5, 6].map((i) => outgoing(`k${i}`, `new-${i}`)),
            ],
          },
        ]);
        const c = consumer(transport, { group, topics: [name], maxRecords: 1 });
        await pollUntil(c, 'one record', (r) => r.length >= 1, patience);
        await c.commit([{ topic: name, partition: 0, offset: 1n }]);
        await c.close();
        await transport.maintain();
        const remaining = await transport.read(name, 0, 0n, 100);
        if (!onDemandMaintenance) {
          expect(remaining.map((r) => r.offset).at(-1)).toBe(6n);
          return;
        }
        expect(remaining.map(text)).toEqual(['new-4', 'new-5', 'new-6']);
        expect(await transport.offsets(name)).toEqual([
          { topic: name, partition: 0, earliest: 4n, latest: 7n },
        ]);
        expect((await transport.groupLag(group, [name]))[0]).toMatchObject({ committed: 1n, lag: 3n });
        // The group's committed offset 1 is below the log start: its next member starts at 4.
        const next = consumer(transport, { group, topics: [name] });
        const got = await pollUntil(next, 'the kept records', (r) => r.length >= 3, patience);
        expect(got.map((r) => r.offset)).toEqual([4n, 5n, 6n]);
      });

      it(`retention by size keeps the newest records within retentionBytes ${note}`, async () => {
        const name = await topic('size', 1, { retentionBytes: 1_000 });
        expect(await transport.describeTopic(name)).toMatchObject({ retentionBytes: 1_000 });
        const value = (i: number) => `${i}`.padStart(200, '.');
        await transport.append([
          {
            topic: name,
            partition: 0,
            records: Array.from({ length: 10 }, (_, i) => outgoing(null, value(i))),
          },
        ]);
        await transport.maintain();
        const remaining = await transport.read(name, 0, 0n, 100);
        const offsets = remaining.map((r) => r.offset);
        expect(offsets.at(-1)).toBe(9n);
        expect(offsets).toEqual(offsets.map((_, i) => offsets[0]! + BigInt(i)));
        if (!onDemandMaintenance) return;
        expect(remaining.length).toBeGreaterThanOrEqual(1);
        expect(remaining.length).toBeLessThanOrEqual(5);
        expect(remaining.map(text)).toEqual(offsets.map((o) => value(Number(o))));
        expect((await transport.offsets(name))[0]).toMatchObject({ earliest: offsets[0], latest: 10n });
      });

      it(`a compacted topic keeps the newest record per key and tombstones delete the key ${note}`, async () => {
        const name = await topic('compact', 1, { compacted: true });
        expect(await transport.describeTopic(name)).toMatchObject({ compacted: true });
        await transport.append([
          {
            topic: name,
            partition: 0,
            records: [
              outgoing('k1', 'k1-a'),
              outgoing('k2', 'k2-a'),
              outgoing('k1', 'k1-b'),
              outgoing('k3', 'k3-a'),
              outgoing('k2', null),
              outgoing('k1', 'k1-c'),
            ],
          },
        ]);
        await transport.maintain();
        const remaining = await transport.read(name, 0, 0n, 100);
        expect((await transport.offsets(name))[0]?.latest).toBe(6n);
        if (!onDemandMaintenance) {
          expect(remaining.at(-1)?.offset).toBe(5n);
          return;
        }
        const byKey = new Map<string | null, StoredRecord[]>();
        for (const r of remaining) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
        expect(byKey.get('k1')?.map((r) => [r.offset, text(r)])).toEqual([[5n, 'k1-c']]);
        expect(byKey.get('k3')?.map((r) => [r.offset, text(r)])).toEqual([[3n, 'k3-a']]);
        // The tombstone may linger for a while (Kafka's delete.retention.ms); the value it deleted may not.
        for (const r of byKey.get('k2') ?? []) expect([r.offset, r.value]).toEqual([4n, null]);
        expect(remaining.length).toBeLessThanOrEqual(3);
      });
    });
  });
}
