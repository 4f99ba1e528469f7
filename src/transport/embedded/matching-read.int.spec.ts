import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MatchingReadRequest, OutgoingRecord, ValueCondition } from '../transport.ts';
import { createEmbeddedTransport, type EmbeddedTransport } from './embedded-transport.ts';

const TOPIC = 'matching';
const binary = (key: string, data: unknown): OutgoingRecord => ({
  key,
  value: new TextEncoder().encode(JSON.stringify(data)),
  headers: { ce_specversion: '1.0', 'content-type': 'application/json' },
});
// Records the conditions must not be applied to: no header, a value that is not JSON, a header's name in a value.
const structured: OutgoingRecord = {
  key: 's',
  value: new TextEncoder().encode(JSON.stringify({ specversion: '1.0', data: { n: 1 } })),
  headers: { 'content-type': 'application/cloudevents+json' },
};
const notJson: OutgoingRecord = {
  key: 'x',
  value: new TextEncoder().encode('{"n": 1'),
  headers: { ce_specversion: '1.0' },
};
const lookalike: OutgoingRecord = {
  key: 'l',
  value: new TextEncoder().encode('{"n": 99}'),
  headers: { note: '"ce_specversion":' },
};

let dir: string;
let transport: EmbeddedTransport;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keel-matching-'));
  transport = createEmbeddedTransport({ path: join(dir, 'log.db'), maintenanceIntervalMs: 0 });
  await transport.ensureTopics([{ name: TOPIC, partitions: 1 }]);
  await transport.append([
    {
      topic: TOPIC,
      partition: 0,
      records: [
        binary('a', { n: 1, name: 'Ada', tags: ['x', 'y'], 'odd.key': 7, nested: { ok: true } }), // 0
        binary('b', { n: '1', name: 'Byron' }), // 1
        binary('c', { n: 2.5, name: null }), // 2
        structured, // 3
        notJson, // 4
        lookalike, // 5
        binary('a', { n: 3, name: 'Ada Lovelace' }), // 6
      ],
    },
  ]);
});
afterAll(async () => {
  await transport.close();
  rmSync(dir, { recursive: true, force: true });
});

const offsetsFor = async (conditions: ValueCondition[], extra: Partial<MatchingReadRequest> = {}) =>
  (
    await transport.readMatching(TOPIC, 0, 0n, {
      conditions,
      whenHeader: 'ce_specversion',
      maxScan: 100,
      maxRecords: 100,
      ...extra,
    })
  ).records.map((r) => Number(r.offset));
// Offsets 3, 4 and 5 are never held to the conditions (no header, not JSON, header only in another's value).
const UNJUDGED = [3, 4, 5];

describe('embedded readMatching', () => {
  it('keeps what may meet equality: a number or its digits as text, a string, null, a boolean', async () => {
    expect(await offsetsFor([{ path: ['n'], operator: '==', value: 1 }])).toEqual([0, 1, ...UNJUDGED]);
    expect(await offsetsFor([{ path: ['name'], operator: '==', value: 'Ada' }])).toEqual([0, ...UNJUDGED]);
    expect(await offsetsFor([{ path: ['name'], operator: '==', value: null }])).toEqual([2, ...UNJUDGED]);
    expect(await offsetsFor([{ path: ['nested', 'ok'], operator: '==', value: true }])).toEqual([
      0,
      ...UNJUDGED,
    ]);
    expect(await offsetsFor([{ path: ['tags', 1], operator: '==', value: 'y' }])).toEqual([0, ...UNJUDGED]);
    expect(await offsetsFor([{ path: ['odd.key'], operator: '==', value: 7 }])).toEqual([0, ...UNJUDGED]);
  });

  it('keeps numeric ranges and containment; leaves != and string ranges to the caller', async () => {
    expect(await offsetsFor([{ path: ['n'], operator: '>', value: 2 }])).toEqual(
      expect.arrayContaining([2, 6]),
    );
    expect(await offsetsFor([{ path: ['n'], operator: '>', value: 2 }])).not.toContain(0);
    expect(await offsetsFor([{ path: ['name'], operator: '~=', value: 'Love' }])).toEqual(
      [6, ...UNJUDGED].sort(),
    );
    expect(await offsetsFor([{ path: ['n'], operator: '!=', value: 1 }])).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(await offsetsFor([{ path: ['name'], operator: '>', value: 'B' }])).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('filters by key, and says how far it looked and where to go on', async () => {
    const read = await transport.readMatching(TOPIC, 0, 0n, {
      conditions: [{ path: ['name'], operator: '~=', value: 'Ada' }],
      whenHeader: 'ce_specversion',
      key: 'a',
      maxScan: 100,
      maxRecords: 1,
    });
    expect(read.records.map((r) => Number(r.offset))).toEqual([0]);
    expect(read).toMatchObject({ scanned: 1, next: 1n });
    const window = await transport.readMatching(TOPIC, 0, 1n, {
      conditions: [{ path: ['n'], operator: '==', value: 3 }],
      whenHeader: 'ce_specversion',
      maxScan: 2,
      maxRecords: 10,
    });
    expect(window).toMatchObject({ records: [], scanned: 2, next: 3n });
    const end = await transport.readMatching(TOPIC, 0, 6n, { conditions: [], maxScan: 10, maxRecords: 10 });
    expect(end).toMatchObject({ scanned: 1, next: null });
  });
});
