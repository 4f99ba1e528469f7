import { z } from 'zod';
import { RequestInvalidError } from './errors.ts';

/** Default and largest page sizes of the API's lists, in items. */
export const PAGE_LIMITS = { default: 50, max: 500 } as const;

/** The `limit` query parameter: items per page, 1 to `max`. */
export function limitParam(max: number = PAGE_LIMITS.max, fallback: number = PAGE_LIMITS.default) {
  return z.coerce
    .number()
    .int()
    .min(1)
    .max(max)
    .default(Math.min(fallback, max))
    .describe(`Items per page, 1 to ${max}; default ${Math.min(fallback, max)}.`);
}

/** The `cursor` query parameter: the `next` of the previous page, opaque. */
export const cursorParam = z
  .string()
  .min(1)
  .optional()
  .describe('The `next` of the previous page; absent for the first page. Opaque: do not build one.');

/** A page of a list: the items and the cursor of the next page (null on the last page). */
export function pageSchema<Item extends z.ZodType>(item: Item) {
  return z.object({
    items: z.array(item),
    next: z.string().nullable().describe('Cursor of the next page, or null when this page is the last.'),
  });
}

/** A page as handlers build it. */
export interface Page<T> {
  items: T[];
  next: string | null;
}

/** Encodes a position in a list as an opaque cursor (base64url JSON). */
export function encodeCursor(position: Record<string, string | number | boolean>): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor made by encodeCursor and checks it with `schema`; throws RequestInvalidError naming
 * `query.cursor` for anything else (a cursor of another list, a hand-made one).
 */
export function decodeCursor<S extends z.ZodType>(schema: S, cursor: string): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new RequestInvalidError([
      {
        path: 'query.cursor',
        rule: 'invalid_cursor',
        message: 'not a cursor of this list: pass `next` as given',
      },
    ]);
  }
  return result.data;
}

const afterKey = z.strictObject({ after: z.string() });

/**
 * One page of a list held in memory, in its order: items after the cursor's key, up to `limit`.
 * The list is sorted by `keyOf` (unique per item; `descending` when newest first); the cursor names the last
 * item of the page, so a list that changes between pages neither repeats nor skips items that stayed.
 */
export function pageOfList<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  options: { limit: number; cursor?: string | undefined; descending?: boolean },
): Page<T> {
  const past = options.descending
    ? (key: string, after: string) => key < after
    : (key: string, after: string) => key > after;
  let start = 0;
  if (options.cursor !== undefined) {
    const { after } = decodeCursor(afterKey, options.cursor);
    const index = items.findIndex((item) => keyOf(item) === after);
    // The cursor's item left the list: start at the first key past it (the list is sorted by key).
    start = index >= 0 ? index + 1 : items.findIndex((item) => past(keyOf(item), after));
    if (start < 0) start = items.length;
  }
  const slice = items.slice(start, start + options.limit);
  const last = slice.at(-1);
  const more = start + slice.length < items.length;
  return { items: slice, next: more && last !== undefined ? encodeCursor({ after: keyOf(last) }) : null };
}
