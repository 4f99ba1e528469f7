/**
 * Sensitive data fields: where they are (JSON pointers into `data`, RFC 6901) and the string forms a
 * sensitive value takes once it left its publisher — sealed (encrypted), masked (the reader may not read it)
 * or redacted (its key was erased). Only the markers live here; encryption lives in `security/encryption`.
 */

/** Prefix of a sealed (encrypted) value: `keel:phi:v1:<key id>:<base64url of iv, ciphertext and tag>`. */
export const SEALED_PREFIX = 'keel:phi:v1:';
/** What a reader without the read-PHI capability sees in place of a sensitive value. */
export const MASKED_VALUE = '[masked]';
/** What every reader sees in place of a sensitive value whose subject's key was erased. */
export const REDACTED_VALUE = '[redacted]';

/** Whether a value is one of the forms a sensitive value takes outside its publisher. */
export function isProtectedValue(value: unknown): boolean {
  return (
    typeof value === 'string' &&
    (value.startsWith(SEALED_PREFIX) || value === MASKED_VALUE || value === REDACTED_VALUE)
  );
}

const parsedPointers = new Map<string, readonly string[]>();

/** `pointerSegments`, remembered: sensitive pointers are few and read for every event. */
export function cachedPointerSegments(pointer: string): readonly string[] {
  let segments = parsedPointers.get(pointer);
  if (segments === undefined) {
    segments = Object.freeze(pointerSegments(pointer));
    if (parsedPointers.size < 10_000) parsedPointers.set(pointer, segments);
  }
  return segments;
}

/** The segments of a JSON pointer (`/a/b~1c` → `['a', 'b/c']`); throws TypeError naming a malformed one. */
export function pointerSegments(pointer: string): string[] {
  if (typeof pointer !== 'string' || !pointer.startsWith('/') || pointer.length < 2) {
    throw new TypeError(
      `"${String(pointer)}" is not a JSON pointer to a field (e.g. "/name" or "/address/line1")`,
    );
  }
  return pointer
    .slice(1)
    .split('/')
    .map((segment) => {
      if (segment === '') throw new TypeError(`JSON pointer "${pointer}" has an empty segment`);
      return segment.replaceAll('~1', '/').replaceAll('~0', '~');
    });
}

/** The value at `segments` in `data`, or undefined when a step is missing or not an object. */
export function valueAt(data: unknown, segments: readonly string[]): unknown {
  let current = data;
  for (const segment of segments) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/**
 * A copy of `data` with the value at `segments` replaced by `replace(value)`, copying only the objects on
 * the way; `data` unchanged (same reference) when the field is absent.
 */
export function replacedAt(data: unknown, segments: readonly string[], value: unknown): unknown {
  if (segments.length === 0) return value;
  if (typeof data !== 'object' || data === null) return data;
  const [head, ...rest] = segments as [string, ...string[]];
  if (!Object.hasOwn(data, head)) return data;
  const copy: Record<string, unknown> = Array.isArray(data)
    ? ([...data] as unknown as Record<string, unknown>)
    : { ...(data as Record<string, unknown>) };
  copy[head] = replacedAt((data as Record<string, unknown>)[head], rest, value);
  return copy;
}

/** Dotted path of a pointer's segments as validation issues name fields (`data.address.line1`). */
export function issuePath(segments: readonly string[]): string {
  return ['data', ...segments].join('.');
}
