import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CloudEvent } from '../events/cloud-event.ts';
import { fromRecord } from '../events/kafka-binding.ts';
import { appendKeyedEvents, appendPlacements, createTopicPartitions, placeByKey } from './append-events.ts';
import { createEmbeddedTransport } from './embedded/index.ts';
import { UnknownTopicError } from './errors.ts';
import { partitionForKey } from './partitioner.ts';
import type { Transport } from './transport.ts';

const event = (id: string, partitionkey?: string): CloudEvent => ({
  specversion: '1.0',
  id,
  source: 'urn:keel:test',
  type: 'test.thing.happened',
  datacontenttype: 'application/json',
  data: { id },
  ...(partitionkey === undefined ? {} : { partitionkey }),
});
const record = (key: string | null) => ({ key, value: new Uint8Array([1]), headers: {} });

describe('append-events', () => {
  let dir: string;
  let transport: Transport;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keel-append-events-'));
    transport = createEmbeddedTransport({ path: join(dir, 'keel.db') });
    await transport.ensureTopics([
      { name: 'a', partitions: 4 },
      { name: 'b', partitions: 1 },
    ]);
  });
  afterEach(async () => {
    await transport.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('places a keyed record by Kafka partitioning and a keyless one on partition 0', () => {
    expect(placeByKey('a', 4, record('k-1')).partition).toBe(partitionForKey('k-1', 4));
    expect(placeByKey('a', 4, record(null)).partition).toBe(0);
  });

  it('appends across topics and partitions in one call, answering offsets in the order given', async () => {
    const placements = [
      { topic: 'a', partition: 1, record: record('x') },
      { topic: 'b', partition: 0, record: record('y') },
      { topic: 'a', partition: 1, record: record('z') },
      { topic: 'a', partition: 2, record: record('w') },
    ];
    expect(await appendPlacements(transport, placements)).toEqual([0n, 0n, 1n, 0n]);
    expect(await appendPlacements(transport, placements.slice(0, 2), true)).toEqual([2n, 1n]);
    const keys = (await transport.read('a', 1, 0n, 10)).map((stored) => stored.key);
    expect(keys).toEqual(['x', 'z', 'x']);
  });

  it('encodes events keyed by their key, on the partition that key picks, in order', async () => {
    const partitions = createTopicPartitions(transport);
    const offsets = await appendKeyedEvents(
      transport,
      [
        { event: event('e-1', 'ignored'), topic: 'a', key: 'stream-1' },
        { event: event('e-2'), topic: 'a', key: 'stream-1' },
      ],
      partitions,
    );
    expect(offsets).toEqual([0n, 1n]);
    const stored = await transport.read('a', partitionForKey('stream-1', 4), 0n, 10);
    expect(stored.map((r) => r.key)).toEqual(['stream-1', 'stream-1']);
    expect(stored.map((r) => fromRecord(r).id)).toEqual(['e-1', 'e-2']);
    expect(await appendKeyedEvents(transport, [], partitions)).toEqual([]);
  });

  it('asks the transport for a topic once and refuses a missing one', async () => {
    const partitions = createTopicPartitions(transport);
    expect(await partitions('a')).toBe(4);
    expect(await partitions('a')).toBe(4);
    await expect(partitions('missing')).rejects.toBeInstanceOf(UnknownTopicError);
  });
});
