import { z } from 'zod';

const celText = z.string().min(1).max(2_000);

/** `24h`, `15m`, `30s`, `250ms`, or a number of milliseconds. */
const duration = z.union([
  z.number().int().positive(),
  z.string().regex(/^\d+(ms|s|m|h|d)$/, 'a duration such as 250ms, 30s, 15m, 24h or 7d'),
]);

/** Which events a step of a rule takes: one type, optionally narrowed by a CEL condition. */
const eventMatcherSpec = z.strictObject({
  /** CloudEvents type, e.g. `lab.result.recorded`. */
  type: z.string().min(1),
  /** CEL condition over `event` and `data`; the event is taken when it evaluates to `true`. */
  when: celText.optional(),
});

const common = {
  /** Stable name of the rule: it is part of every match's id, so renaming it starts it afresh. */
  id: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/, 'letters, digits, ".", "_" or "-"'),
  /** CEL expression giving the key events are correlated by; default `event.subject`. */
  key: celText.default('event.subject'),
};

/** A pattern rule as data (JSON or YAML in configuration): no code, only CEL conditions. */
export const ruleSpecSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    ...common,
    kind: z.literal('sequence'),
    first: eventMatcherSpec,
    next: eventMatcherSpec,
    within: duration,
  }),
  z.strictObject({
    ...common,
    kind: z.literal('absence'),
    first: eventMatcherSpec,
    missing: eventMatcherSpec,
    within: duration,
  }),
  z.strictObject({
    ...common,
    kind: z.literal('threshold'),
    on: eventMatcherSpec,
    /** CEL expression giving the number compared. */
    value: celText,
    above: z.number().optional(),
    below: z.number().optional(),
  }),
  z.strictObject({
    ...common,
    kind: z.literal('count'),
    on: eventMatcherSpec,
    /** Matches when this many events of one key fall within `within`. */
    atLeast: z.number().int().min(2),
    within: duration,
  }),
]);

/** A pattern rule as declared. */
export type RuleSpec = z.input<typeof ruleSpecSchema>;

/** Milliseconds of a duration as rules write it. */
export function durationMs(value: number | string): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(value);
  if (!match) throw new TypeError(`not a duration: ${value}`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'ms'];
  return Number(match[1]) * unit;
}
