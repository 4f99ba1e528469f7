import { ANY } from '../identity/identity.ts';

/** Compiled patterns, by their text: identities repeat the same few patterns on every request. */
const compiled = new Map<string, RegExp>();

/**
 * True when `value` matches one of `patterns`: `*` alone matches anything, a `*` inside a pattern any run of
 * characters (`orders.*`, `com.acme.*.v1`); everything else matches itself.
 */
export function matchesAny(patterns: readonly string[], value: string): boolean {
  for (const pattern of patterns) {
    if (pattern === ANY || pattern === value) return true;
    if (pattern.includes('*') && regexOf(pattern).test(value)) return true;
  }
  return false;
}

function regexOf(pattern: string): RegExp {
  let regex = compiled.get(pattern);
  if (regex === undefined) {
    const source = pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*');
    regex = new RegExp(`^${source}$`);
    compiled.set(pattern, regex);
  }
  return regex;
}
