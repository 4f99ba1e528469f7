import { KeelError } from '../errors/keel-error.ts';

/** One thing wrong with a rule: where (e.g. `rules[2].first.when`) and why. */
export interface RuleProblem {
  path: string;
  message: string;
}

/** Pattern rules that do not parse or do not make sense; nothing of them was applied. */
export class RuleInvalidError extends KeelError {
  readonly code = 'KEEL_ANALYTICS_RULE_INVALID';
  readonly problems: readonly RuleProblem[];

  constructor(problems: readonly RuleProblem[]) {
    super(`invalid pattern rules: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
    this.problems = problems;
  }
}

/** Why a query was refused: it does not parse, is not one SELECT, or names something that does not exist. */
export type QueryRule = 'syntax' | 'read_only' | 'single_statement' | 'invalid';

/** Where in the query text a problem sits: 1-based line and column, and the 0-based character offset. */
export interface QueryPosition {
  line: number;
  column: number;
  offset: number;
}

/** A query that was refused before it ran, or that DuckDB refused while binding it; nothing was run. */
export class QueryInvalidError extends KeelError {
  readonly code = 'KEEL_ANALYTICS_QUERY_INVALID';
  /** Which rule it broke. */
  readonly rule: QueryRule;
  /** Where in the text, when DuckDB says. */
  readonly position: QueryPosition | undefined;

  constructor(rule: QueryRule, message: string, position?: QueryPosition) {
    super(position ? `${message} (line ${position.line}, column ${position.column})` : message);
    this.rule = rule;
    this.position = position;
  }
}

/** A query that started but did not finish in its time limit; it was interrupted. */
export class QueryTimeoutError extends KeelError {
  readonly code = 'KEEL_ANALYTICS_QUERY_TIMEOUT';
  /** The limit it ran into, in milliseconds. */
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super(`the query did not finish within ${timeoutMs} ms and was interrupted`);
    this.timeoutMs = timeoutMs;
  }
}
