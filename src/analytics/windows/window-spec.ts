import { parse } from '@marcbachmann/cel-js';
import { z } from 'zod';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { RuleInvalidError, type RuleProblem } from '../errors.ts';
import { durationMs } from '../patterns/rule-spec.ts';

const duration = z.union([
  z.number().int().positive(),
  z.string().regex(/^\d+(ms|s|m|h|d)$/, 'a duration such as 250ms, 30s, 15m, 24h or 7d'),
]);

/** A window as data: which events, grouped by what, over which span of event time. */
export const windowSpecSchema = z.strictObject({
  /** Stable name; results carry it. */
  id: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/, 'letters, digits, ".", "_" or "-"'),
  /** `tumbling` (back to back) or `sliding` (a window of `size` every `slide`). */
  kind: z.enum(['tumbling', 'sliding']),
  size: duration,
  /** Sliding windows only: how often one starts; must divide `size`. */
  slide: duration.optional(),
  /** Event type taken (default every type) and a CEL condition narrowing it. */
  on: z.strictObject({ type: z.string().min(1).optional(), when: z.string().min(1).optional() }).default({}),
  /** `type`, `tenant`, `topic`, `source`, or a CEL expression such as `data.ward`; default `type`. */
  by: z.string().min(1).default('type'),
  /** CEL expression giving the number aggregated (sum, mean, min, max); default none (counts only). */
  value: z.string().min(1).optional(),
  /** Milliseconds of event time a window stays open past its end for late events; default 0. */
  lateness: duration.optional(),
});

/** A window as declared. */
export type WindowSpec = z.input<typeof windowSpecSchema>;

/** A window ready to run. */
export interface CompiledWindow {
  id: string;
  kind: 'tumbling' | 'sliding';
  sizeMs: number;
  slideMs: number;
  latenessMs: number;
  /** Whether the window takes this event. */
  takes(event: CloudEvent): boolean;
  /** The group the event falls in, or undefined when there is none. */
  groupOf(event: CloudEvent, topic: string): string | undefined;
  /** The number aggregated, or undefined (the event is still counted). */
  valueOf?: (event: CloudEvent) => number | undefined;
}

type Evaluate = ReturnType<typeof parse>;

/** Checks and compiles windows; every problem of every window is thrown together as one `RuleInvalidError`. */
export function compileWindows(specs: readonly unknown[]): CompiledWindow[] {
  const problems: RuleProblem[] = [];
  const out: CompiledWindow[] = [];
  specs.forEach((spec, index) => {
    const where = `windows[${index}]`;
    const parsed = windowSpecSchema.safeParse(spec);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        problems.push({ path: [where, ...issue.path.map(String)].join('.'), message: issue.message });
      return;
    }
    const window = compileOne(parsed.data, where, problems);
    if (window) out.push(window);
  });
  if (problems.length > 0) throw new RuleInvalidError(problems);
  return out;
}

function compileOne(
  spec: z.output<typeof windowSpecSchema>,
  where: string,
  problems: RuleProblem[],
): CompiledWindow | undefined {
  const before = problems.length;
  const sizeMs = durationMs(spec.size);
  const slideMs = spec.kind === 'tumbling' ? sizeMs : durationMs(spec.slide ?? spec.size);
  if (spec.kind === 'tumbling' && spec.slide !== undefined)
    problems.push({ path: `${where}.slide`, message: 'a tumbling window has no slide' });
  if (sizeMs % slideMs !== 0) problems.push({ path: `${where}.slide`, message: 'slide must divide size' });
  const cel = (text: string, path: string): Evaluate | undefined => {
    try {
      return parse(text);
    } catch (error) {
      problems.push({
        path: `${where}.${path}`,
        message: `not a CEL expression: ${(error as Error).message.split('\n')[0]}`,
      });
      return undefined;
    }
  };
  const when = spec.on.when === undefined ? undefined : cel(spec.on.when, 'on.when');
  const value = spec.value === undefined ? undefined : cel(spec.value, 'value');
  const groupOf = groupBy(spec.by, cel);
  if (problems.length > before) return undefined;
  const type = spec.on.type;
  return {
    id: spec.id,
    kind: spec.kind,
    sizeMs,
    slideMs,
    latenessMs: spec.lateness === undefined ? 0 : durationMs(spec.lateness),
    takes: (event) =>
      (type === undefined || event.type === type) && (when === undefined || run(when, event) === true),
    groupOf,
    ...(value && {
      valueOf: (event: CloudEvent) => {
        const v = run(value, event);
        const n = typeof v === 'bigint' ? Number(v) : v;
        return typeof n === 'number' && !Number.isNaN(n) ? n : undefined;
      },
    }),
  };
}

function groupBy(
  by: string,
  cel: (text: string, path: string) => Evaluate | undefined,
): CompiledWindow['groupOf'] {
  switch (by) {
    case 'type':
      return (event) => event.type;
    case 'source':
      return (event) => event.source;
    case 'tenant':
      return (event) => (typeof event.tenantid === 'string' ? event.tenantid : '');
    case 'topic':
      return (_event, topic) => topic;
  }
  const expression = cel(by, 'by');
  return (event) => {
    const v = expression && run(expression, event);
    return typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean'
      ? String(v)
      : undefined;
  };
}

function run(evaluate: Evaluate, event: CloudEvent): unknown {
  try {
    return evaluate({ event, data: event.data ?? null } as unknown as Record<string, unknown>);
  } catch {
    // As in CEL's own filters, an expression that cannot be evaluated on an event gives no value.
    return undefined;
  }
}
