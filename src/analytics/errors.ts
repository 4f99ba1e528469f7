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
