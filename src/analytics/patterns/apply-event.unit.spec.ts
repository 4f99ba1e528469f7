import { describe, expect, it } from 'vitest';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { openSqlite } from '../../sql/sqlite/open-sqlite.ts';
import { reviewRules } from '../test-support/lab-events.ts';
import { applyEvent, type Match } from './apply-event.ts';
import { compileRules, type RuleSpec } from './compile-rules.ts';
import { createPatternState } from './sqlite-state.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const HOUR = 3_600_000;

function event(id: string, type: string, data: Record<string, unknown>, atMs: number): CloudEvent {
  return {
    id,
    type,
    source: 'urn:test',
    specversion: '1.0',
    time: new Date(T0 + atMs).toISOString(),
    data,
  } as CloudEvent;
}

function run(rules: readonly RuleSpec[], events: readonly CloudEvent[], source = 'lab/0'): Match[] {
  const compiled = compileRules(rules);
  const state = createPatternState(openSqlite({ path: ':memory:' }));
  return events.flatMap((e) => applyEvent(compiled, state, e, source));
}

const recorded = (i: number, at: number) =>
  event(`rec-${i}`, 'test.lab.result.recorded', { resultId: `r${i}`, patientId: 'p', value: i }, at);
const reviewed = (i: number, at: number, reviewer = 'dr-a') =>
  event(`rev-${i}`, 'test.lab.result.reviewed', { resultId: `r${i}`, reviewer }, at);

describe('pattern rules on known streams', () => {
  it('sequence: a review within 24 h matches its result; a late one does not', () => {
    const matches = run(reviewRules.slice(0, 1), [
      recorded(1, 0),
      recorded(2, HOUR),
      reviewed(1, 2 * HOUR),
      reviewed(2, 30 * HOUR),
    ]);
    expect(matches.map((m) => [m.rule, m.key, m.eventIds])).toEqual([
      ['reviewed-in-time', 'r1', ['rec-1', 'rev-1']],
    ]);
  });

  it('sequence: the condition of the second step is checked', () => {
    const matches = run(reviewRules.slice(0, 1), [recorded(1, 0), reviewed(1, HOUR, '')]);
    expect(matches).toEqual([]);
  });

  it('absence: matches once a later event on the partition passes the deadline, not when reviewed in time', () => {
    const matches = run(reviewRules.slice(1), [
      recorded(1, 0),
      recorded(2, HOUR),
      reviewed(2, 3 * HOUR),
      recorded(3, 23 * HOUR),
      recorded(4, 25 * HOUR + 1),
    ]);
    expect(matches.map((m) => [m.rule, m.key, m.eventIds, new Date(m.at).toISOString()])).toEqual([
      ['unreviewed-24h', 'r1', ['rec-1'], '2026-01-02T00:00:00.000Z'],
    ]);
  });

  it('count: the third failed login of one user within 10 minutes matches with all three', () => {
    const rule: RuleSpec = {
      id: 'logins',
      kind: 'count',
      key: 'data.user',
      on: { type: 'login.failed' },
      atLeast: 3,
      within: '10m',
    };
    const login = (n: number, user: string, minutes: number) =>
      event(`l${n}`, 'login.failed', { user }, minutes * 60_000);
    const matches = run(
      [rule],
      [login(1, 'a', 0), login(2, 'a', 4), login(3, 'b', 5), login(4, 'a', 11), login(5, 'a', 12)],
    );
    expect(matches.map((m) => m.eventIds)).toEqual([['l2', 'l4', 'l5']]);
  });

  it('threshold: a value above the limit matches, its CEL value read from the data', () => {
    const rule: RuleSpec = {
      id: 'fever',
      kind: 'threshold',
      key: 'data.patient',
      on: { type: 'vitals' },
      value: 'data.temperature',
      above: 38.5,
    };
    const vitals = (n: number, temperature: number) =>
      event(`v${n}`, 'vitals', { patient: 'p1', temperature }, n);
    expect(run([rule], [vitals(1, 37), vitals(2, 39.2), vitals(3, 38.5)]).map((m) => m.eventIds)).toEqual([
      ['v2'],
    ]);
  });
});
