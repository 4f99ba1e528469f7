import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OptionsError } from '../../errors/options.ts';
import type { MatchingRead, MatchingReadRequest, OutgoingRecord } from '../transport.ts';
import { createEmbeddedTransport, type EmbeddedTransport } from './embedded-transport.ts';
import { PARALLEL_SCAN_MIN, splitRange } from './parallel-matching-read.ts';

const RECORDS = 30_000;
const binary = (key: string, data: unknown): OutgoingRecord => ({
  key,
  value: new TextEncoder().encode(JSON.stringify(data)),
  headers: { ce_specversion: '1.0', 'content-type': 'application/json' },
});
// One record in a thousand is a needle: 7, 1007, 2007, ...; every hundredth has the key k7.
const record = (i: number): OutgoingRecord =>
  binary(`k${i % 100}`, { n: i, name: i % 1_000 === 7 ? 'needle' : 'hay', flag: i % 2 === 0 });

// Long enough for gzip to shrink each value on its own (a value it cannot shrink is kept plain).
const zipped = (i: number): OutgoingRecord =>
  binary(`z${i % 10}`, { n: i, name: i % 1_000 === 7 ? 'needle' : 'hay', notes: 'observation '.repeat(20) });

let dir: string;
let threaded: EmbeddedTransport;
let inPlace: EmbeddedTransport;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keel-parallel-'));
  const path = join(dir, 'log.db');
  threaded = createEmbeddedTransport({ path, maintenanceIntervalMs: 0, synchronous: 'normal' });
  inPlace = createEmbeddedTransport({
    path,
    maintenanceIntervalMs: 0,
    synchronous: 'normal',
    scanThreads: 0,
  });
  await threaded.ensureTopics([
    { name: 'log', partitions: 1 },
    { name: 'compacted', partitions: 1, compacted: true },
    { name: 'zipped', partitions: 1, compression: 'gzip' },
  ]);
  // Values compressed on the way in: SQLite cannot look into them, so every one is a candidate.
  await threaded.append([
    { topic: 'zipped', partition: 0, records: Array.from({ length: 8_000 }, (_, i) => zipped(i)) },
  ]);
  await threaded.append([
    { topic: 'log', partition: 0, records: Array.from({ length: RECORDS }, (_, i) => record(i)) },
  ]);
  // Even records have keys of their own, odd ones share five (r1, r3, .., r9): compaction leaves gaps.
  const compacted = Array.from({ length: 12_000 }, (_, i) =>
    binary(i % 2 === 0 ? `u${i}` : `r${i % 10}`, { n: i, name: i % 1_000 === 7 ? 'needle' : 'hay' }),
  );
  await threaded.append([{ topic: 'compacted', partition: 0, records: compacted }]);
  await threaded.maintain();
  // Until they are up, windows are read in place: every comparison below is of the threads' answers.
  expect(await threaded.startScanThreads()).toBe(true);
  expect(await inPlace.startScanThreads()).toBe(false);
});
afterAll(async () => {
  await Promise.all([threaded?.close(), inPlace?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

const request = (extra: Partial<MatchingReadRequest>): MatchingReadRequest => ({
  conditions: [],
  whenHeader: 'ce_specversion',
  maxScan: 20_000,
  maxRecords: 1_000,
  ...extra,
});
const answer = (read: MatchingRead) => ({
  offsets: read.records.map((r) => Number(r.offset)),
  values: read.records.map((r) => new TextDecoder().decode(r.value!)),
  scanned: read.scanned,
  next: read.next,
});

/** Every call of a walk over a partition from its start, following `next`. */
async function walk(transport: EmbeddedTransport, topic: string, asked: MatchingReadRequest) {
  const calls: ReturnType<typeof answer>[] = [];
  for (let from: bigint | null = 0n; from !== null; ) {
    const read = await transport.readMatching(topic, 0, from, asked);
    calls.push(answer(read));
    from = read.next;
  }
  return {
    calls,
    offsets: calls.flatMap((c) => c.offsets),
    scanned: calls.reduce((sum, c) => sum + c.scanned, 0),
  };
}

describe('embedded readMatching across scan threads', () => {
  it('keeps the records one scan keeps, in offset order, looking at each record once', async () => {
    const requests = [
      request({ conditions: [{ path: ['n'], operator: '==', value: 12_345 }] }),
      request({ conditions: [{ path: ['name'], operator: '~=', value: 'need' }] }),
      request({ conditions: [{ path: ['n'], operator: '>=', value: 29_990 }] }),
      request({ conditions: [{ path: ['flag'], operator: '==', value: true }], key: 'k7' }),
      request({
        conditions: [{ path: ['name'], operator: '==', value: 'needle' }],
        maxScan: PARALLEL_SCAN_MIN,
      }),
    ];
    for (const asked of requests) {
      const [split, single] = await Promise.all([walk(threaded, 'log', asked), walk(inPlace, 'log', asked)]);
      expect(split.offsets).toEqual(single.offsets);
      expect(split.calls).toEqual(single.calls);
      expect(split.scanned).toBe(RECORDS);
    }
    const needles = await walk(threaded, 'log', requests[1]!);
    expect(needles.offsets).toEqual(Array.from({ length: 30 }, (_, i) => i * 1_000 + 7));
  });

  it('stops at maxRecords where one scan stops, whichever thread found the last record kept', async () => {
    const needles = [{ path: ['name'], operator: '==' as const, value: 'needle' }];
    // 20,000 records split in two: needles 7..9007 in the first half, 10007.. in the second.
    for (const maxRecords of [3, 10, 11, 20, 21]) {
      for (const from of [0n, 4_321n]) {
        const asked = request({ conditions: needles, maxRecords });
        const split = answer(await threaded.readMatching('log', 0, from, asked));
        const single = answer(await inPlace.readMatching('log', 0, from, asked));
        expect(split).toEqual(single);
        expect(split.offsets.length).toBe(Math.min(maxRecords, 20));
      }
    }
    const three = await threaded.readMatching('log', 0, 0n, request({ conditions: needles, maxRecords: 3 }));
    expect(answer(three)).toMatchObject({ offsets: [7, 1_007, 2_007], scanned: 2_008, next: 2_008n });
  });

  it('looks at no more than maxScan records per call across compaction gaps, and finds the same records', async () => {
    const asked = request({
      conditions: [{ path: ['name'], operator: '==', value: 'needle' }],
      maxScan: 5_000,
    });
    const [split, single] = await Promise.all([
      walk(threaded, 'compacted', asked),
      walk(inPlace, 'compacted', asked),
    ]);
    expect(split.offsets).toEqual(single.offsets);
    expect(split.scanned).toBe(single.scanned);
    expect(single.scanned).toBe(6_005);
    for (const call of split.calls) expect(call.scanned).toBeLessThanOrEqual(5_000);
  });

  it('hands compressed records back decompressed, the same from the threads as from one scan', async () => {
    const asked = request({
      conditions: [{ path: ['name'], operator: '==', value: 'needle' }],
      maxScan: 8_000,
      maxRecords: 8_000,
    });
    const [split, single] = await Promise.all([
      walk(threaded, 'zipped', asked),
      walk(inPlace, 'zipped', asked),
    ]);
    expect(split.calls).toEqual(single.calls);
    // Every record may match (the caller judges it once decompressed), and each reads back as written.
    expect(split.offsets).toEqual(Array.from({ length: 8_000 }, (_, i) => i));
    const values = split.calls.flatMap((c) => c.values);
    expect(JSON.parse(values[1_007]!)).toMatchObject({ n: 1_007, name: 'needle' });
  });

  it('cuts a window into consecutive ranges, one per thread', () => {
    expect(splitRange(0n, 9n, 2)).toEqual([
      { first: 0n, last: 4n },
      { first: 5n, last: 9n },
    ]);
    expect(splitRange(10n, 12n, 2)).toEqual([
      { first: 10n, last: 11n },
      { first: 12n, last: 12n },
    ]);
    expect(splitRange(5n, 5n, 4)).toEqual([{ first: 5n, last: 5n }]);
  });

  it('refuses a scan still running when the transport closes', async () => {
    const own = mkdtempSync(join(tmpdir(), 'keel-parallel-close-'));
    try {
      const transport = createEmbeddedTransport({ path: join(own, 'log.db'), maintenanceIntervalMs: 0 });
      await transport.ensureTopics([{ name: 't', partitions: 1 }]);
      const records = Array.from({ length: 5_000 }, (_, i) => record(i));
      await transport.append([{ topic: 't', partition: 0, records }]);
      expect(await transport.startScanThreads()).toBe(true);
      const running = transport.readMatching('t', 0, 0n, request({ maxScan: 5_000 }));
      await transport.close();
      await expect(running).rejects.toMatchObject({
        code: 'KEEL_TRANSPORT_CLOSED',
        operation: 'readMatching',
      });
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });

  it('says when the threads cannot read the file, and reads in place from then on', async () => {
    const own = mkdtempSync(join(tmpdir(), 'keel-parallel-gone-'));
    const warnings: Array<{ msg: string; code?: string }> = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line)) });
    try {
      const path = join(own, 'gone.db');
      const orphan = createEmbeddedTransport({ path, maintenanceIntervalMs: 0, logger });
      await orphan.ensureTopics([{ name: 't', partitions: 1 }]);
      const records = Array.from({ length: 5_000 }, (_, i) => record(i));
      await orphan.append([{ topic: 't', partition: 0, records }]);
      // The transport's connection keeps the removed file open; a thread opening it now finds nothing.
      rmSync(path);
      expect(await orphan.startScanThreads()).toBe(false);
      expect(warnings).toEqual([
        expect.objectContaining({
          msg: 'embedded transport: scan threads stopped, reading in place',
          code: 'KEEL_EMBEDDED_SCAN_THREAD',
        }),
      ]);
      const needles = request({
        conditions: [{ path: ['name'], operator: '==', value: 'needle' }],
        maxScan: 5_000,
      });
      const read = await orphan.readMatching('t', 0, 0n, needles);
      expect(answer(read)).toMatchObject({
        offsets: [7, 1_007, 2_007, 3_007, 4_007],
        scanned: 5_000,
        next: null,
      });
      await orphan.close();
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });

  it('refuses a negative number of scan threads, naming the option', () => {
    expect(() => createEmbeddedTransport({ path: ':memory:', scanThreads: -1 })).toThrow(OptionsError);
    expect(() => createEmbeddedTransport({ path: ':memory:', scanThreads: -1 })).toThrow(
      /embedded\.scanThreads/,
    );
  });
});
