import type { z } from 'zod';
import type { ValidationIssue } from './errors.ts';

/** Extends an issue path by one step: `[3]` for an index, `.name` (or `name` at the root) for a key. */
export function joinPath(prefix: string, key: PropertyKey): string {
  if (typeof key === 'number') return `${prefix}[${key}]`;
  const name = String(key);
  return prefix === '' ? name : `${prefix}.${name}`;
}

/** Turns zod issues into Keel issues: path under `prefix`, rule = zod issue code. */
export function issuesFromZod(issues: readonly z.core.$ZodIssue[], prefix: string): ValidationIssue[] {
  return issues.map((issue) => ({
    path: issue.path.reduce<string>(joinPath, prefix),
    rule: issue.code,
    message: issue.message,
  }));
}
