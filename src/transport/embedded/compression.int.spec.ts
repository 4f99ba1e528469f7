import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { browsePartition } from '../browse-partition.ts';
import { pollUntil } from '../contract/contract-helpers.ts';
import type { OutgoingRecord, TopicCompression } from '../transport.ts';
import { createEmbeddedTransport, type EmbeddedTransport } from './embedded-transport.ts';
import { migrations } from './schema.ts';

const dirs: string[] = [];
const transports: EmbeddedTransport[] = [];
afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const logPath = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-compression-'));
  dirs.push(dir);
  return join(dir, 'log.db');
};
const open = (path: string, compression?: TopicCompression): EmbeddedTransport => {
  const transport = createEmbeddedTransport({ path, maintenanceIntervalMs: 0, compression });
  transports.push(transport);
  return transport;
};
const admission = (i: number) => ({
  patientId: `patient-${i % 50}`,
  ward: ['cardiology', 'oncology', 'emergency'][i % 3],
  diagnosis: { system: 'http://hl7.org/fhir/sid/icd-10', code: `I2${i % 10}.${i % 7}`, display: 'Angina' },
  notes: 'Admitted through the emergency department; observation for 24 hours, then review by cardiology.',
  // Repeated structure, as in a FHIR bundle: what every codec (lz4 included) shrinks even in one record.
  vitals: [0, 1, 2, 3, 4, 5].map((h) => ({ code: '8867-4', display: 'Heart rate', unit: '/min', hour: h })),
});
const event = (i: number): OutgoingRecord => ({
  key: `patient-${i % 50}`,
  value: new TextEncoder().encode(JSON.stringify(admission(i))),
  headers: { ce_specversion: '1.0', ce_type: 'healthcare.admission.recorded' },
});
const json = (value: Uint8Array | null): unknown => JSON.parse(new TextDecoder().decode(value!));
/** Codec and stored length of each row, read from the file as another process would. */
const rows = (path: string) => {
  const db = new BetterSqlite3(path, { readonly: true });
  try {
    return db
      .prepare('SELECT record_offset AS offset, codec, length(value) AS stored, size FROM records ORDER BY 1')
      .all() as { offset: number; codec: number; stored: number | null; size: number }[];
  } finally {
    db.close();
  }
};

describe('embedded log compression', () => {
  it.each([
    ['gzip', 1],
    ['snappy', 2],
    ['lz4', 3],
    ['zstd', 4],
  ] as const)(
    'stores each value of a %s topic compressed (codec %i) and reads it back as appended',
    async (codec, id) => {
      const path = logPath();
      const transport = open(path);
      await transport.ensureTopics([{ name: 'admissions', partitions: 1, compression: codec }]);
      await transport.append([{ topic: 'admissions', partition: 0, records: [0, 1, 2].map(event) }]);

      const read = await transport.read('admissions', 0, 0n, 10);
      expect(read.map((r) => json(r.value))).toEqual([0, 1, 2].map(admission));
      expect(read[0]?.headers).toEqual(event(0).headers);
      const stored = rows(path);
      expect(stored.map((r) => r.codec)).toEqual([id, id, id]);
      for (const [i, row] of stored.entries()) expect(row.stored).toBeLessThan(event(i).value!.byteLength);
      // Retention by size counts what the file keeps.
      const [size] = await transport.sizes('admissions');
      expect(size?.bytes).toBe(stored.reduce((sum, r) => sum + r.size, 0));
      expect(await transport.describeTopic('admissions')).toMatchObject({ compression: codec });
    },
  );

  it('keeps a value plain when compressing does not make it smaller, and tombstones stay null', async () => {
    const path = logPath();
    const transport = open(path);
    await transport.ensureTopics([{ name: 't', partitions: 1, compression: 'zstd' }]);
    await transport.append([
      {
        topic: 't',
        partition: 0,
        records: [
          { key: 'a', value: new TextEncoder().encode('{"n":1}'), headers: {} },
          { key: 'a', value: null, headers: {} },
        ],
      },
    ]);
    expect(rows(path).map((r) => [r.codec, r.stored])).toEqual([
      [0, 7],
      [0, null],
    ]);
    expect((await transport.read('t', 0, 0n, 10)).map((r) => r.value)).toEqual([
      new TextEncoder().encode('{"n":1}'),
      null,
    ]);
  });

  it("uses the transport's compression for topics without their own, and a topic's own before it", async () => {
    const path = logPath();
    const transport = open(path, 'lz4');
    await transport.ensureTopics([
      { name: 'default', partitions: 1 },
      { name: 'plain', partitions: 1, compression: 'none' },
    ]);
    await transport.append([
      { topic: 'default', partition: 0, records: [event(0)] },
      { topic: 'plain', partition: 0, records: [event(0)] },
    ]);
    expect(rows(path).map((r) => r.codec)).toEqual([3, 0]);
    expect((await transport.describeTopic('default'))?.compression).toBeUndefined();
  });

  it('delivers compressed records to consumer groups decompressed', async () => {
    const transport = open(logPath());
    await transport.ensureTopics([{ name: 'admissions', partitions: 1, compression: 'zstd' }]);
    await transport.append([{ topic: 'admissions', partition: 0, records: [0, 1].map(event) }]);
    const consumer = transport.consumer({ group: 'g', topics: ['admissions'] });
    try {
      const seen = await pollUntil(consumer, 'both records', (received) => received.length === 2, 5_000);
      expect(seen.map((r) => json(r.value))).toEqual([0, 1].map(admission));
    } finally {
      await consumer.close();
    }
  });

  it('reads records written before compression existed, next to compressed ones', async () => {
    const path = logPath();
    const old = new BetterSqlite3(path);
    old.exec(migrations[0]!.sql);
    old.pragma('user_version = 1');
    old.prepare("INSERT INTO topics (id, name, partitions, created_at) VALUES (1, 'admissions', 1, 0)").run();
    old.prepare('INSERT INTO partitions (topic_id, partition_index, log_end) VALUES (1, 0, 1)').run();
    old
      .prepare(
        'INSERT INTO records (topic_id, partition_index, record_offset, timestamp, size, key, headers, value) VALUES (1, 0, 0, 0, 10, NULL, NULL, ?)',
      )
      .run(Buffer.from(JSON.stringify(admission(0))));
    old.close();

    const transport = open(path, 'zstd');
    await transport.append([{ topic: 'admissions', partition: 0, records: [event(1)] }]);
    expect(rows(path).map((r) => r.codec)).toEqual([0, 4]);
    expect((await transport.read('admissions', 0, 0n, 10)).map((r) => json(r.value))).toEqual([
      admission(0),
      admission(1),
    ]);
  });

  it('readMatching keeps compressed records as candidates, and the browse keeps only those that match once read', async () => {
    const transport = open(logPath());
    await transport.ensureTopics([{ name: 'admissions', partitions: 1, compression: 'zstd' }]);
    await transport.append([
      { topic: 'admissions', partition: 0, records: Array.from({ length: 9 }, (_, i) => event(i)) },
    ]);
    const prefilter = { conditions: [{ path: ['ward'], operator: '==', value: 'oncology' }] as const };
    const candidates = await transport.readMatching('admissions', 0, 0n, {
      ...prefilter,
      maxScan: 100,
      maxRecords: 100,
    });
    expect(candidates.records).toHaveLength(9);
    expect(candidates.records.map((r) => json(r.value))).toEqual(
      Array.from({ length: 9 }, (_, i) => admission(i)),
    );

    const page = await browsePartition(transport, {
      topic: 'admissions',
      partition: 0,
      order: 'oldest',
      limit: 10,
      maxScan: 100,
      prefilter,
      match: (record) => (json(record.value) as { ward: string }).ward === 'oncology',
    });
    expect(page.records.map((r) => Number(r.offset))).toEqual([1, 4, 7]);
  });

  it('refuses a record whose stored bytes do not decompress with the place it sits', async () => {
    const path = logPath();
    const transport = open(path);
    await transport.ensureTopics([{ name: 'admissions', partitions: 1, compression: 'gzip' }]);
    await transport.append([{ topic: 'admissions', partition: 0, records: [event(0)] }]);
    const db = new BetterSqlite3(path);
    db.prepare('UPDATE records SET value = ?').run(Buffer.from('not gzip at all'));
    db.close();
    await expect(transport.read('admissions', 0, 0n, 1)).rejects.toMatchObject({
      code: 'KEEL_EMBEDDED_CORRUPT_RECORD',
      topic: 'admissions',
      partition: 0,
      offset: 0n,
    });
  });

  it('refuses an unknown codec option, naming it', () => {
    expect(() =>
      createEmbeddedTransport({ path: ':memory:', compression: 'brotli' as TopicCompression }),
    ).toThrow(/embedded\.compression/);
  });
});
