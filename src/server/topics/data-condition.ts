import type { ValidationIssue } from '../../events/errors.ts';
import { RequestInvalidError } from '../api/errors.ts';

/** Comparisons a data condition can make. */
export type ConditionOperator = '==' | '!=' | '>=' | '<=' | '>' | '<' | '~=';

/** A parsed `where` condition: a path into the event (`data.vitals.heartRate`), an operator and a value. */
export interface DataCondition {
  /** Segments after the root, e.g. `['data', 'vitals', 'heartRate']`; numbers index arrays. */
  path: (string | number)[];
  operator: ConditionOperator;
  /** A JSON literal (number, string in quotes, true, false, null) or, unquoted, the text itself. */
  value: unknown;
}

const OPERATORS: readonly ConditionOperator[] = ['==', '!=', '>=', '<=', '~=', '>', '<'];
const SEGMENT = /^[A-Za-z_][A-Za-z0-9_-]*/;

/**
 * Parses one condition such as `data.vitals.heartRate>=120` or `data.status=="admitted"`: a path starting at
 * `data` (or another event attribute), `.name` and `[index]` steps, an operator, a value. Throws
 * RequestInvalidError naming `field` and the character where parsing stopped. Never evaluates anything.
 */
export function parseDataCondition(text: string, field: string): DataCondition {
  const fail = (at: number, expected: string): never => {
    const issue: ValidationIssue = {
      path: field,
      rule: 'filter_syntax',
      message: `at character ${at + 1} of ${JSON.stringify(text)}: expected ${expected}`,
    };
    throw new RequestInvalidError([issue]);
  };
  const path: (string | number)[] = [];
  let at = 0;
  const first = SEGMENT.exec(text);
  if (!first) fail(0, 'an attribute name such as `data`');
  path.push(first?.[0] as string);
  at = first?.[0].length ?? 0;
  while (text[at] === '.' || text[at] === '[') {
    if (text[at] === '.') {
      const name = SEGMENT.exec(text.slice(at + 1));
      if (!name) fail(at + 1, 'a field name after `.`');
      path.push(name?.[0] as string);
      at += 1 + (name?.[0].length ?? 0);
    } else {
      const index = /^\[(\d+)\]/.exec(text.slice(at));
      if (!index) fail(at, 'an array index such as `[0]`');
      path.push(Number(index?.[1]));
      at += index?.[0].length ?? 0;
    }
  }
  const operator = OPERATORS.find((op) => text.startsWith(op, at));
  if (operator === undefined) fail(at, `an operator (${OPERATORS.join(' ')})`);
  at += (operator as string).length;
  const raw = text.slice(at);
  if (raw.length === 0) fail(at, 'a value');
  return { path, operator: operator as ConditionOperator, value: literal(raw) };
}

/** A JSON literal when the text is one, the text itself otherwise. */
function literal(raw: string): unknown {
  try {
    const parsed: unknown = JSON.parse(raw);
    return typeof parsed === 'object' && parsed !== null ? raw : parsed;
  } catch {
    return raw;
  }
}

/** Whether an event (as a plain object) meets the condition; a missing path never matches but `!=`. */
export function meetsCondition(
  event: Readonly<Record<string, unknown>> | undefined,
  condition: DataCondition,
): boolean {
  let current: unknown = event;
  for (const step of condition.path) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, step)) {
      current = undefined;
      break;
    }
    current = (current as Record<string | number, unknown>)[step];
  }
  const { operator, value } = condition;
  if (operator === '==') return current !== undefined && sameValue(current, value);
  if (operator === '!=') return current === undefined || !sameValue(current, value);
  if (operator === '~=') return typeof current === 'string' && current.includes(String(value));
  if (typeof current === 'number' && typeof value === 'number') return compare(current, value, operator);
  if (typeof current === 'string' && typeof value === 'string') return compare(current, value, operator);
  return false;
}

function sameValue(actual: unknown, expected: unknown): boolean {
  // An unquoted number matches the same digits in a string field, as people type them in a URL.
  return (
    actual === expected ||
    (typeof actual === 'string' && typeof expected === 'number' && actual === String(expected))
  );
}

function compare<T extends number | string>(a: T, b: T, operator: ConditionOperator): boolean {
  if (operator === '>') return a > b;
  if (operator === '>=') return a >= b;
  if (operator === '<') return a < b;
  return a <= b;
}
