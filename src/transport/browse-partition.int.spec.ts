import { afterEach, describe, expect, it } from 'vitest';
import { browsePartition } from './browse-partition.ts';
import { createEmbeddedTransport, type EmbeddedTransport } from './embedded/index.ts';

const transports: EmbeddedTransport[] = [];
afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close()));
});

/** A compacted topic of one partition holding keys k0..k9 twice (offsets 0-19), compacted to 10-19, minus key k5. */
async function compactedLog(): Promise<EmbeddedTransport> {
  const transport = createEmbeddedTransport({ path: ':memory:' });
  transports.push(transport);
  await transport.ensureTopics([{ name: 't', partitions: 1, compacted: true }]);
  const record = (i: number) => ({
    key: `k${i % 10}`,
    value: new TextEncoder().encode(`v${i}`),
    headers: { n: String(i) },
  });
  await transport.append([
    { topic: 't', partition: 0, records: Array.from({ length: 20 }, (_, i) => record(i)) },
  ]);
  await transport.append([
    {
      topic: 't',
      partition: 0,
      records: [{ key: 'k5', value: new TextEncoder().encode('v20'), headers: { n: '20' } }],
    },
  ]);
  await transport.maintain();
  return transport;
}

const offsets = (records: { offset: bigint }[]) => records.map((r) => Number(r.offset));

describe('browsePartition', () => {
  it('pages up and down a compacted partition, skipping the gaps, with a cursor that continues exactly', async () => {
    const transport = await compactedLog();
    const base = { topic: 't', partition: 0, maxScan: 1_000 };
    const up = await browsePartition(transport, { ...base, order: 'oldest', limit: 4 });
    expect(offsets(up.records)).toEqual([10, 11, 12, 13]);
    const up2 = await browsePartition(transport, { ...base, order: 'oldest', limit: 4, from: up.next ?? 0n });
    expect(offsets(up2.records)).toEqual([14, 16, 17, 18]);

    const down = await browsePartition(transport, { ...base, order: 'newest', limit: 3 });
    expect(offsets(down.records)).toEqual([20, 19, 18]);
    const down2 = await browsePartition(transport, {
      ...base,
      order: 'newest',
      limit: 3,
      from: down.next ?? 0n,
    });
    expect(offsets(down2.records)).toEqual([17, 16, 14]);
    const rest = await browsePartition(transport, {
      ...base,
      order: 'newest',
      limit: 50,
      from: down2.next ?? 0n,
    });
    expect(offsets(rest.records)).toEqual([13, 12, 11, 10]);
    expect(rest.next).toBeNull();
  });

  it('keeps only matching records and stops at the scan bound with a cursor to go on', async () => {
    const transport = await compactedLog();
    const even = (r: { headers: Readonly<Record<string, string>> }) => Number(r.headers.n) % 2 === 0;
    const page = await browsePartition(transport, {
      topic: 't',
      partition: 0,
      order: 'oldest',
      limit: 10,
      match: even,
      maxScan: 3,
    });
    expect(page).toMatchObject({ scanned: 3, next: 13n });
    expect(offsets(page.records)).toEqual([10, 12]);
    const all = await browsePartition(transport, {
      topic: 't',
      partition: 0,
      order: 'newest',
      limit: 10,
      match: even,
      maxScan: 100,
    });
    expect(offsets(all.records)).toEqual([20, 18, 16, 14, 12, 10]);
    expect(all).toMatchObject({ scanned: 10, next: null });
  });

  it('answers an empty page for a partition the topic does not have, or an empty one', async () => {
    const transport = await compactedLog();
    expect(
      await browsePartition(transport, { topic: 't', partition: 3, order: 'oldest', limit: 5, maxScan: 10 }),
    ).toEqual({
      records: [],
      next: null,
      scanned: 0,
    });
    await transport.ensureTopics([{ name: 'empty', partitions: 1 }]);
    expect(
      (
        await browsePartition(transport, {
          topic: 'empty',
          partition: 0,
          order: 'newest',
          limit: 5,
          maxScan: 10,
        })
      ).next,
    ).toBeNull();
  });
});
