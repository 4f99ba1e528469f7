/**
 * Binds values to numbered parameters (`?1`, `?2`, ...): better-sqlite3 takes those as named ones, so
 * a statement that repeats a parameter gets an object keyed by number instead of an argument list.
 */
export function numbered(...values: readonly unknown[]): Record<number, unknown> {
  const bound: Record<number, unknown> = {};
  values.forEach((value, index) => {
    bound[index + 1] = value;
  });
  return bound;
}
