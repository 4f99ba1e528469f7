import { parse } from '@marcbachmann/cel-js';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { RuleInvalidError, type RuleProblem } from '../errors.ts';
import { durationMs, type RuleSpec, ruleSpecSchema } from './rule-spec.ts';

/** A CEL expression compiled once: it sees `event` (the envelope) and `data`. */
type Expression = (event: CloudEvent) => unknown;

/** One step of a compiled rule: the type it takes and its condition. */
export interface CompiledMatcher {
  type: string;
  /** True when the event is of the type and the condition (if any) evaluates to `true`. */
  test(event: CloudEvent): boolean;
}

interface CompiledBase {
  id: string;
  /** The correlation key of an event, or undefined when the expression gives no string or number. */
  key(event: CloudEvent): string | undefined;
}

/** A rule ready to run. */
export type CompiledRule = CompiledBase &
  (
    | { kind: 'sequence'; first: CompiledMatcher; next: CompiledMatcher; withinMs: number }
    | { kind: 'absence'; first: CompiledMatcher; missing: CompiledMatcher; withinMs: number }
    | { kind: 'threshold'; on: CompiledMatcher; value: Expression; above?: number; below?: number }
    | { kind: 'count'; on: CompiledMatcher; atLeast: number; withinMs: number }
  );

/**
 * Checks and compiles pattern rules. Every problem of every rule is collected (shape, CEL syntax with the
 * parser's position, duplicate ids) and thrown together as one `RuleInvalidError`; nothing is compiled
 * unless all of them are right. CEL is sandboxed: no loops, no I/O, only the variables given.
 */
export function compileRules(specs: readonly unknown[]): CompiledRule[] {
  const problems: RuleProblem[] = [];
  const compiled: CompiledRule[] = [];
  const seen = new Set<string>();
  specs.forEach((spec, index) => {
    const where = `rules[${index}]`;
    const parsed = ruleSpecSchema.safeParse(spec);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        problems.push({ path: [where, ...issue.path.map(String)].join('.'), message: issue.message });
      }
      return;
    }
    if (seen.has(parsed.data.id))
      problems.push({ path: `${where}.id`, message: `duplicate rule id ${parsed.data.id}` });
    seen.add(parsed.data.id);
    const rule = compileOne(parsed.data, where, problems);
    if (rule) compiled.push(rule);
  });
  if (problems.length > 0) throw new RuleInvalidError(problems);
  return compiled;
}

function compileOne(
  spec: ReturnType<typeof ruleSpecSchema.parse>,
  where: string,
  problems: RuleProblem[],
): CompiledRule | undefined {
  const before = problems.length;
  const cel = (text: string, path: string): Expression => compileCel(text, `${where}.${path}`, problems);
  const matcher = (m: { type: string; when?: string | undefined }, path: string): CompiledMatcher => {
    const condition = m.when === undefined ? undefined : cel(m.when, `${path}.when`);
    return {
      type: m.type,
      test: (event) => event.type === m.type && (condition === undefined || condition(event) === true),
    };
  };
  const keyOf = cel(spec.key, 'key');
  const key = (event: CloudEvent): string | undefined => {
    const value = keyOf(event);
    return typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint'
      ? String(value)
      : undefined;
  };
  const base = { id: spec.id, key };
  let rule: CompiledRule;
  switch (spec.kind) {
    case 'sequence':
      rule = {
        ...base,
        kind: 'sequence',
        first: matcher(spec.first, 'first'),
        next: matcher(spec.next, 'next'),
        withinMs: durationMs(spec.within),
      };
      break;
    case 'absence':
      rule = {
        ...base,
        kind: 'absence',
        first: matcher(spec.first, 'first'),
        missing: matcher(spec.missing, 'missing'),
        withinMs: durationMs(spec.within),
      };
      break;
    case 'threshold':
      if (spec.above === undefined && spec.below === undefined)
        problems.push({ path: `${where}.above`, message: 'a threshold rule needs above, below or both' });
      rule = {
        ...base,
        kind: 'threshold',
        on: matcher(spec.on, 'on'),
        value: cel(spec.value, 'value'),
        ...(spec.above !== undefined && { above: spec.above }),
        ...(spec.below !== undefined && { below: spec.below }),
      };
      break;
    case 'count':
      rule = {
        ...base,
        kind: 'count',
        on: matcher(spec.on, 'on'),
        atLeast: spec.atLeast,
        withinMs: durationMs(spec.within),
      };
      break;
  }
  return problems.length === before ? rule : undefined;
}

function compileCel(text: string, path: string, problems: RuleProblem[]): Expression {
  let evaluate: ReturnType<typeof parse>;
  try {
    evaluate = parse(text);
  } catch (error) {
    problems.push({ path, message: `not a CEL expression: ${(error as Error).message.split('\n')[0]}` });
    return () => undefined;
  }
  return (event) => {
    try {
      return evaluate({ event, data: event.data ?? null } as unknown as Record<string, unknown>);
    } catch {
      // An expression that cannot be evaluated on this event (a missing field, another type) gives no value,
      // as CEL's own filters treat errors: the condition does not hold.
      return undefined;
    }
  };
}

/** A rule's declared shape, re-exported for configuration typing. */
export type { RuleSpec };
