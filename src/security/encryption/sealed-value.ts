import { SEALED_PREFIX } from '../../events/sensitive-fields.ts';

/** A sealed value taken apart: the data key that sealed it and the AES-GCM bytes (iv, ciphertext, tag). */
export interface SealedParts {
  keyId: string;
  bytes: Buffer;
}

/** The string form of a sealed value: `keel:phi:v1:<keyId>:<base64url bytes>`. */
export function formatSealed(keyId: string, bytes: Buffer): string {
  return `${SEALED_PREFIX}${keyId}:${bytes.toString('base64url')}`;
}

/** A sealed value's parts; undefined when the value is not a sealed value. */
export function parseSealed(value: unknown): SealedParts | undefined {
  if (typeof value !== 'string' || !value.startsWith(SEALED_PREFIX)) return undefined;
  const rest = value.slice(SEALED_PREFIX.length);
  const colon = rest.indexOf(':');
  if (colon <= 0) return undefined;
  return { keyId: rest.slice(0, colon), bytes: Buffer.from(rest.slice(colon + 1), 'base64url') };
}

/** Additional authenticated data of a field: a sealed value only opens in the event type and field it was sealed for. */
export function fieldAad(type: string, pointer: string): Buffer {
  return Buffer.from(`keel-phi-field\0${type}\0${pointer}`);
}
