import type { z } from 'zod';
import { KeelError } from './keel-error.ts';

/** Options of a component (Router, transport, engine, ...) that break their schema; nothing was opened. */
export class OptionsError extends KeelError {
  readonly code: string = 'KEEL_OPTIONS';
  /** Which component's options, e.g. `router`, `kafka transport`. */
  readonly component: string;
  /** Each broken rule, as `<dotted key>: <message>`. */
  readonly issues: readonly string[];

  constructor(component: string, issues: readonly string[]) {
    super(`invalid ${component} options: ${issues.join('; ')}`);
    this.component = component;
    this.issues = issues;
  }
}

/** Makes the error thrown for a component's broken options (OptionsError, or a subclass of it). */
export type OptionsErrorFactory = (issues: readonly string[]) => OptionsError;

/**
 * Parses a component's options with `schema` (defaults live in the schema), throwing an OptionsError that
 * names every broken key as `<prefix>.<path>`; `undefined` parses as `{}`.
 */
export function parseOptions<Schema extends z.ZodType>(
  schema: Schema,
  value: unknown,
  prefix: string,
  error: OptionsErrorFactory = (issues) => new OptionsError(prefix, issues),
): z.output<Schema> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  throw error(
    result.error.issues.map((issue) => `${[prefix, ...issue.path.map(String)].join('.')}: ${issue.message}`),
  );
}
