import { describe, expect, it } from 'vitest';
import { RuleInvalidError } from '../errors.ts';
import { reviewRules } from '../test-support/lab-events.ts';
import { compileRules } from './compile-rules.ts';

function problemsOf(rules: unknown[]): { path: string; message: string }[] {
  try {
    compileRules(rules);
  } catch (error) {
    expect(error).toBeInstanceOf(RuleInvalidError);
    expect((error as RuleInvalidError).code).toBe('KEEL_ANALYTICS_RULE_INVALID');
    return [...(error as RuleInvalidError).problems];
  }
  throw new Error('the rules were accepted');
}

describe('compileRules', () => {
  it('compiles the rules of the proofs', () => {
    expect(compileRules(reviewRules).map((r) => [r.id, r.kind])).toEqual([
      ['reviewed-in-time', 'sequence'],
      ['unreviewed-24h', 'absence'],
    ]);
  });

  it('refuses a condition that is not CEL, naming the rule and field, with the parser message', () => {
    const problems = problemsOf([
      reviewRules[0],
      { ...reviewRules[1], missing: { type: 'x', when: 'data.reviewer ==' } },
    ]);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.path).toBe('rules[1].missing.when');
    expect(problems[0]?.message).toMatch(/^not a CEL expression: /);
  });

  it('collects every problem of every rule: shape, duration, key, duplicate ids, a threshold with no bound', () => {
    const problems = problemsOf([
      { id: 'a', kind: 'sequence', first: { type: 't' }, next: { type: 'u' }, within: 'soon' },
      { id: 'b', kind: 'count', on: { type: 't' }, atLeast: 3, within: '1h', key: '((' },
      { id: 'b', kind: 'threshold', on: { type: 't' }, value: 'data.v' },
      { id: 'c', kind: 'eventually' },
      { id: 'd', kind: 'absence', first: { type: 't' }, missing: { type: 'u' }, within: '1h', extra: 1 },
    ]);
    expect(problems.map((p) => p.path)).toEqual([
      'rules[0].within',
      'rules[1].key',
      'rules[2].id',
      'rules[2].above',
      'rules[3].kind',
      'rules[4]',
    ]);
  });
});
