import { describe, expect, it } from 'vitest';
import type { CloudEvent } from '../../events/cloud-event.ts';
import type { CollectedTrace, TraceEvent } from './collect-trace.ts';
import { traceTree } from './trace-tree.ts';

function event(id: string, time: string, causationid?: string, data: unknown = {}): CloudEvent {
  return {
    specversion: '1.0',
    id,
    source: '/t',
    type: 't.happened',
    time,
    data,
    ...(causationid ? { causationid } : {}),
  };
}

function trace(events: TraceEvent[]): CollectedTrace {
  return {
    correlationId: 'c',
    events: new Map(events.map((e) => [e.event.id, e])),
    scanned: 0,
    complete: true,
  };
}

describe('traceTree', () => {
  it('orders by causation, each level by time; an event whose cause is missing is a root', () => {
    const tree = traceTree(
      trace([
        { event: event('b', '2026-01-01T00:00:02Z', 'a'), locations: [] },
        { event: event('a', '2026-01-01T00:00:01Z'), locations: [] },
        { event: event('c', '2026-01-01T00:00:03Z', 'a'), locations: [] },
        { event: event('d', '2026-01-01T00:00:00Z', 'gone'), locations: [] },
      ]),
    );
    expect(tree.roots).toEqual(['d', 'a']);
    expect(tree.events.map((e) => [e.id, e.parentId, e.depth])).toEqual([
      ['d', null, 0],
      ['a', null, 0],
      ['b', 'a', 1],
      ['c', 'a', 1],
    ]);
    expect(tree.events[0]!.causationId).toBe('gone');
  });

  it('keeps every event of a causation cycle, shown from a root, and binary data as base64', () => {
    const tree = traceTree(
      trace([
        { event: event('x', '2026-01-01T00:00:01Z', 'y', new Uint8Array([1, 2])), locations: [] },
        { event: event('y', '2026-01-01T00:00:02Z', 'x'), locations: [] },
      ]),
    );
    expect(tree.events.map((e) => e.id).sort()).toEqual(['x', 'y']);
    expect(tree.roots).toHaveLength(1);
    const x = tree.events.find((e) => e.id === 'x')!;
    expect(x.event).toMatchObject({ data_base64: 'AQI=' });
    expect(x.event).not.toHaveProperty('data');
  });
});
