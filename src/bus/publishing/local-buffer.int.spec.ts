import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEvent } from '../../events/create-event.ts';
import { fromRecord, toRecord } from '../../events/kafka-binding.ts';
import { createMetrics } from '../../observability/metrics.ts';
import { StepRecorded } from '../test-support/publishing-catalog.ts';
import { BufferFullError, BufferLockedError, PublisherOptionsError } from './errors.ts';
import { openLocalBuffer } from './local-buffer.ts';
import { encodedSize, type PlacedEvent } from './placed-event.ts';

const placed = (key: string, seq: number, topic = 'steps'): PlacedEvent => {
  const event = createEvent(StepRecorded, { key, seq }, { source: 'urn:keel:test' });
  const record = toRecord(event, { validated: true });
  return { event, topic, partition: seq % 3, record, size: encodedSize(record) };
};

describe('local durable buffer', () => {
  let dir: string;
  let path: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'keel-buffer-'));
    path = join(dir, 'publish-buffer.db');
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps publishes in insertion order and hands them out as whole publishes within the batch limits', async () => {
    const metrics = createMetrics();
    const buffer = openLocalBuffer({ path, flushBatchEvents: 5 }, { name: 'orders', metrics });
    const first = [placed('a', 0), placed('a', 1), placed('b', 2)];
    const rest = [[placed('a', 3)], [placed('c', 4), placed('c', 5)]];
    buffer.add(first);
    for (const publish of rest) buffer.add(publish);
    expect(buffer.count()).toBe(6);
    expect(buffer.bytes()).toBe([...first, ...rest.flat()].reduce((sum, p) => sum + p.size, 0));

    // Five rows fit the limit, which cuts the third publish short: it comes whole anyway.
    const batch = buffer.peek()!;
    expect(batch.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(batch.map((e) => e.group)).toEqual([1, 1, 1, 2, 3, 3]);
    const decoded = fromRecord(batch[0]!.record);
    expect(decoded).toMatchObject({ id: first[0]!.event.id, data: { key: 'a', seq: 0 } });
    expect(batch[0]).toMatchObject({
      topic: 'steps',
      partition: 0,
      id: first[0]!.event.id,
      type: 'test.step.recorded',
    });

    expect(buffer.peek(true)!.map((e) => e.seq)).toEqual([1, 2, 3]);
    buffer.remove(3);
    expect(buffer.count()).toBe(3);
    expect(buffer.peek(true)!.map((e) => e.seq)).toEqual([4]);
    expect(await metrics.registry.getSingleMetricAsString('keel_publish_buffer_events')).toMatch(
      /keel_publish_buffer_events\{name="orders"} 3/,
    );
    buffer.close();
  });

  it('remembers across a restart which groups came from a transaction, until they are flushed', () => {
    const buffer = openLocalBuffer({ path }, { name: 'p', metrics: undefined });
    buffer.add([placed('a', 0)]);
    buffer.add([placed('a', 1), placed('b', 2, 'audits')], true);
    buffer.add([placed('a', 3)]);
    buffer.close();

    const reopened = openLocalBuffer({ path }, { name: 'p', metrics: undefined });
    expect(reopened.peek()!.map((e) => [e.group, e.atomic])).toEqual([
      [1, false],
      [2, true],
      [2, true],
      [3, false],
    ]);
    reopened.remove(3);
    // A later group never inherits a flushed transaction's mark, even once the buffer was empty.
    reopened.remove(4);
    reopened.add([placed('c', 4)]);
    reopened.add([placed('c', 5)], true);
    expect(reopened.peek()!.map((e) => [e.group, e.atomic])).toEqual([
      [4, false],
      [5, true],
    ]);
    reopened.close();
    const raw = new BetterSqlite3(path);
    expect(raw.prepare('SELECT grp FROM atomic_groups').all()).toEqual([{ grp: 5 }]);
    raw.close();
  });

  it('refuses a publish that would go over its limits, storing none of it', () => {
    const buffer = openLocalBuffer({ path, maxEvents: 3 }, { name: 'p', metrics: undefined });
    buffer.add([placed('a', 0), placed('a', 1)]);
    const error = (() => {
      try {
        buffer.add([placed('a', 2), placed('a', 3)]);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(BufferFullError);
    expect(error).toMatchObject({
      code: 'KEEL_PUBLISH_BUFFER_FULL',
      events: 2,
      maxEvents: 3,
      refusedEvents: 2,
    });
    expect(buffer.count()).toBe(2);
    buffer.add([placed('a', 2)]);
    expect(buffer.count()).toBe(3);
    buffer.close();

    const small = openLocalBuffer(
      { path: join(dir, 'small.db'), maxBytes: 100 },
      { name: 'p', metrics: undefined },
    );
    expect(() => small.add([placed('a', 0)])).toThrow(/is full/);
    small.close();
  });

  it('survives a restart, and has one owner at a time', () => {
    const buffer = openLocalBuffer({ path }, { name: 'p', metrics: undefined });
    buffer.add([placed('a', 0)]);
    buffer.add([placed('a', 1)]);
    expect(() => openLocalBuffer({ path }, { name: 'p', metrics: undefined })).toThrow(BufferLockedError);
    // Not even a plain reader gets in while it is held.
    const reader = new BetterSqlite3(path, { timeout: 0 });
    expect(() => reader.prepare('SELECT count(*) FROM buffered_events').get()).toThrow(/locked|busy/i);
    reader.close();
    buffer.close();

    const reopened = openLocalBuffer({ path }, { name: 'p', metrics: undefined });
    expect(reopened.count()).toBe(2);
    expect(reopened.peek()!.map((e) => fromRecord(e.record).data)).toEqual([
      { key: 'a', seq: 0 },
      { key: 'a', seq: 1 },
    ]);
    // New groups continue after the ones found on disk.
    reopened.add([placed('a', 2)]);
    expect(reopened.peek()!.map((e) => e.group)).toEqual([1, 2, 3]);
    reopened.quarantine(1, new Error('refused for good'));
    expect(reopened.count()).toBe(2);
    reopened.close();
    const raw = new BetterSqlite3(path);
    expect(raw.prepare('SELECT event_id, error FROM failed_events').all()).toEqual([
      { event_id: expect.any(String), error: 'Error: refused for good' },
    ]);
    raw.close();
  });

  it('refuses bad options, naming the key', () => {
    expect(() => openLocalBuffer({ path, maxEvents: 0 }, { name: 'p', metrics: undefined })).toThrow(
      PublisherOptionsError,
    );
    expect(() => openLocalBuffer({ path: '' }, { name: 'p', metrics: undefined })).toThrow(/buffer\.path/);
  });
});
