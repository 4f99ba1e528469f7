export { AnalyticsTopic, PatternMatched } from './analytics-events.ts';
export { RuleInvalidError, type RuleProblem } from './errors.ts';
export { type CompiledRule, compileRules } from './patterns/compile-rules.ts';
export { matchId } from './patterns/match-id.ts';
export {
  createPatternEngine,
  type PatternEngine,
  type PatternEngineOptions,
} from './patterns/pattern-engine.ts';
export { type RuleSpec, ruleSpecSchema } from './patterns/rule-spec.ts';
