export { AnalyticsTopic, AnomalyDetected, PatternMatched, WindowClosed } from './analytics-events.ts';
export {
  type AnomalyDetector,
  createRobustZScoreDetector,
  type DetectorOptions,
  type Verdict,
} from './anomalies/robust-z-score.ts';
export { RuleInvalidError, type RuleProblem } from './errors.ts';
export { type CompiledRule, compileRules } from './patterns/compile-rules.ts';
export { matchId } from './patterns/match-id.ts';
export {
  createPatternEngine,
  type PatternEngine,
  type PatternEngineOptions,
} from './patterns/pattern-engine.ts';
export { type RuleSpec, ruleSpecSchema } from './patterns/rule-spec.ts';
export type { WindowResult } from './windows/window-aggregator.ts';
export type { Anomaly } from './windows/window-engine.ts';
export {
  createWindowEngine,
  type WindowEngine,
  type WindowEngineOptions,
  type WindowQuery,
} from './windows/window-engine.ts';
export { compileWindows, type WindowSpec, windowSpecSchema } from './windows/window-spec.ts';
