import type { CloudEvent } from '../../events/cloud-event.ts';
import {
  cachedPointerSegments,
  MASKED_VALUE,
  REDACTED_VALUE,
  replacedAt,
  valueAt,
} from '../../events/sensitive-fields.ts';
import type { DataKey } from './data-keys.ts';
import { SealedValueError } from './errors.ts';
import { decrypt } from './master-key.ts';
import type { PhiReader } from './phi-reader.ts';
import { fieldAad, parseSealed, type SealedParts } from './sealed-value.ts';

/** The event's sealed fields: where they are and what they hold. */
export const sealedFields = (event: CloudEvent, pointers: readonly string[]) =>
  pointers
    .map((pointer) => ({ pointer, segments: cachedPointerSegments(pointer) }))
    .map((field) => ({ ...field, parts: parseSealed(valueAt(event.data, field.segments)) }))
    .filter((field): field is typeof field & { parts: SealedParts } => field.parts !== undefined);

/** The data opened with the keys at hand; undefined when `keyOf` lacks one of them (not loaded yet). */
export const openWith = (
  event: CloudEvent,
  fields: ReturnType<typeof sealedFields>,
  reader: PhiReader,
  keyOf: (keyId: string) => DataKey | undefined,
): { data: unknown } | undefined => {
  let data: unknown = event.data;
  if (!reader.canReadPhi) {
    for (const field of fields) data = replacedAt(data, field.segments, MASKED_VALUE);
    return { data };
  }
  const opened = new Map<string, Map<string, unknown> | 'erased'>();
  for (const { pointer, parts } of fields) {
    if (parts.bytes === undefined) continue;
    const key = keyOf(parts.keyId);
    if (key === undefined) return undefined;
    opened.set(parts.keyId, 'erased' in key ? 'erased' : openBytes(event, pointer, key.key, parts.bytes));
  }
  for (const { pointer, segments, parts } of fields) {
    const values = opened.get(parts.keyId);
    if (values === undefined || (values !== 'erased' && !values.has(pointer))) {
      throw new SealedValueError(event.id, event.type, pointer);
    }
    data = replacedAt(data, segments, values === 'erased' ? REDACTED_VALUE : values.get(pointer));
  }
  return { data };
};

/** The values sealed in one event's bytes, by pointer; SealedValueError when they do not open. */
const openBytes = (event: CloudEvent, pointer: string, key: Buffer, bytes: Buffer) => {
  let plain: Buffer;
  try {
    plain = decrypt(key, bytes, fieldAad(event.type, pointer));
  } catch {
    throw new SealedValueError(event.id, event.type, pointer);
  }
  return new Map(JSON.parse(plain.toString('utf8')) as Array<[string, unknown]>);
};
