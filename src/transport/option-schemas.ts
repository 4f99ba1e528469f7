import { z } from 'zod';

const positiveMessage = (issue: { input?: unknown }): string =>
  `must be a positive integer, got ${String(issue.input)}`;
const nonNegativeMessage = (issue: { input?: unknown }): string =>
  `must be an integer ≥ 0, got ${String(issue.input)}`;

/** An integer ≥ 1 (a count, or milliseconds that must not be 0). */
export const positiveInt = z.int({ error: positiveMessage }).min(1, { error: positiveMessage });

/** An integer ≥ 0 (milliseconds where 0 means "at once" or "never"). */
export const nonNegativeInt = z.int({ error: nonNegativeMessage }).min(0, { error: nonNegativeMessage });

/** Something the schema passes through untouched when it is an object (a logger, TLS options). */
export const anObject = <T>(what: string) =>
  z.custom<T>((value) => typeof value === 'object' && value !== null, { error: `must be ${what}` });

/** A function the schema passes through untouched (a callback). */
export const aFunction = <T>() =>
  z.custom<T>((value) => typeof value === 'function', { error: 'must be a function' });
