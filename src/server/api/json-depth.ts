import { KeelError } from '../../errors/keel-error.ts';

/** Deepest nesting of arrays and objects accepted in any JSON the API reads (event data, request bodies). */
export const MAX_JSON_DEPTH = 64;

/** A JSON value nests deeper than MAX_JSON_DEPTH: refused before anything walks it recursively. */
export class JsonTooDeepError extends KeelError {
  readonly code = 'KEEL_API_JSON_TOO_DEEP';
  /** Where the value was (`data`, `body`, `[3].data`). */
  readonly path: string;
  readonly limit: number;

  constructor(path: string, limit: number) {
    super(`${path} nests deeper than ${limit} levels of arrays and objects`);
    this.path = path;
    this.limit = limit;
  }
}

/** Throws JsonTooDeepError when `value` nests deeper than `limit`; walks without recursion. */
export function assertJsonDepth(value: unknown, path: string, limit = MAX_JSON_DEPTH): void {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (typeof current !== 'object' || current === null) continue;
    if (depth + 1 > limit) throw new JsonTooDeepError(path, limit);
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
}
