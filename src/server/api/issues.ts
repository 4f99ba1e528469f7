import type { z } from 'zod';
import type { ValidationIssue } from '../../events/errors.ts';
import type { RequestPart } from './errors.ts';

/**
 * Zod issues as Keel's validation issues, each path prefixed with the request part (`query.limit`); an
 * unknown key is named itself (`query.colour`), so a typo is pointed at.
 */
export function issuesOf(part: RequestPart, error: z.ZodError): ValidationIssue[] {
  return error.issues.flatMap((issue): ValidationIssue[] => {
    const path = [part, ...issue.path.map(String)];
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: [...path, key].join('.'),
        rule: issue.code,
        message: `unknown ${part === 'params' ? 'parameter' : 'field'} "${key}"`,
      }));
    }
    return [{ path: path.join('.'), rule: issue.code, message: issue.message }];
  });
}
