import { describe, expect, it } from 'vitest';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { RuleInvalidError } from '../errors.ts';
import { createWindowAggregator, type WindowResult } from './window-aggregator.ts';
import { compileWindows, type WindowSpec } from './window-spec.ts';

const vitals = (id: number, atSec: number, ward: string, heartRate: number): CloudEvent =>
  ({
    id: `v${id}`,
    type: 'vitals.recorded',
    source: 'urn:test',
    specversion: '1.0',
    time: new Date(atSec * 1_000).toISOString(),
    data: { ward, heartRate },
  }) as CloudEvent;

function run(spec: WindowSpec, events: readonly CloudEvent[]): WindowResult[] {
  const [window] = compileWindows([spec]);
  const aggregator = createWindowAggregator(window!);
  const results = events.flatMap((e) =>
    window!.takes(e)
      ? aggregator.add(Date.parse(e.time!), window!.groupOf(e, 't')!, window!.valueOf?.(e))
      : [],
  );
  return results.map((r) => ({ ...r, start: r.start / 1_000, end: r.end / 1_000 }));
}

const stream = [
  vitals(1, 0, 'a', 60),
  vitals(2, 5, 'a', 80),
  vitals(3, 7, 'b', 100),
  vitals(4, 12, 'a', 70),
  vitals(5, 25, 'b', 90),
  vitals(6, 40, 'a', 50),
];

describe('windows on known streams', () => {
  it('tumbling 10 s by a data field: count, rate and mean heart rate per ward', () => {
    const results = run(
      { id: 'hr', kind: 'tumbling', size: '10s', by: 'data.ward', value: 'data.heartRate' },
      stream,
    );
    expect(results.map((r) => [r.start, r.key, r.count, r.rate, r.mean, r.min, r.max])).toEqual([
      [0, 'a', 2, 0.2, 70, 60, 80],
      [0, 'b', 1, 0.1, 100, 100, 100],
      [10, 'a', 1, 0.1, 70, 70, 70],
      [20, 'b', 1, 0.1, 90, 90, 90],
    ]);
  });

  it('sliding 20 s every 10 s by type: each event in two windows', () => {
    const results = run({ id: 'all', kind: 'sliding', size: '20s', slide: '10s' }, stream);
    expect(results.map((r) => [r.start, r.end, r.key, r.count])).toEqual([
      [-10, 10, 'vitals.recorded', 3],
      [0, 20, 'vitals.recorded', 4],
      [10, 30, 'vitals.recorded', 2],
      [20, 40, 'vitals.recorded', 1],
    ]);
  });

  it('a condition narrows the events; a late event is dropped, not counted twice', () => {
    const late = [...stream, vitals(7, 3, 'a', 200)];
    const results = run(
      { id: 'high', kind: 'tumbling', size: '10s', by: 'data.ward', on: { when: 'data.heartRate >= 70' } },
      late,
    );
    expect(results.map((r) => [r.start, r.key, r.count])).toEqual([
      [0, 'a', 1],
      [0, 'b', 1],
      [10, 'a', 1],
    ]);
    // [20 s, 30 s) stays open: the event at 40 s is not taken, so event time has not passed 30 s.
  });

  it('refuses windows that do not parse, naming where', () => {
    try {
      compileWindows([
        { id: 'x', kind: 'sliding', size: '20s', slide: '15s' },
        { id: 'y', kind: 'tumbling', size: '1m', value: 'data.(' },
      ]);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(RuleInvalidError);
      expect((error as RuleInvalidError).problems.map((p) => p.path)).toEqual([
        'windows[0].slide',
        'windows[1].value',
      ]);
    }
  });
});
