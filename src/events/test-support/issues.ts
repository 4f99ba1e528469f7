import { expect } from 'vitest';
import { ValidationError, type ValidationIssue } from '../errors.ts';

/** Runs `action`, asserts it throws a ValidationError, and returns the error's issues. */
export function issuesOf(action: () => unknown): readonly ValidationIssue[] {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).issues;
  }
  throw new Error('expected a ValidationError, but nothing was thrown');
}

/** `path rule` of each issue, for compact assertions. */
export function pathsAndRules(issues: readonly ValidationIssue[]): string[] {
  return issues.map((issue) => `${issue.path} ${issue.rule}`);
}
