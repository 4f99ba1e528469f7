import { randomFillSync } from 'node:crypto';
import { SEALED_PREFIX } from '../../events/sensitive-fields.ts';

/**
 * A sealed value taken apart: the data key that sealed it, and either the AES-GCM bytes (iv, ciphertext,
 * tag) holding every sensitive value of the event, or nothing for a field whose value travels in those bytes.
 */
export interface SealedParts {
  keyId: string;
  /** Undefined for a field that refers to its event's sealed bytes (`...:<keyId>:*`). */
  bytes: Buffer | undefined;
}

/** Marks a field whose value is sealed in another field of the same event. */
const IN_EVENT = '*';

/**
 * The string form of a sealed value: `keel:phi:v1:<keyId>:<base64url bytes>` on the event's first sensitive
 * field, `keel:phi:v1:<keyId>:*` on the others (their values are sealed with the first: one cipher per event).
 */
export function formatSealed(keyId: string, bytes: Buffer | undefined): string {
  return `${SEALED_PREFIX}${keyId}:${bytes === undefined ? IN_EVENT : bytes.toString('base64url')}`;
}

/** A sealed value's parts; undefined when the value is not a sealed value. */
export function parseSealed(value: unknown): SealedParts | undefined {
  if (typeof value !== 'string' || !value.startsWith(SEALED_PREFIX)) return undefined;
  const rest = value.slice(SEALED_PREFIX.length);
  const colon = rest.indexOf(':');
  if (colon <= 0) return undefined;
  const body = rest.slice(colon + 1);
  return {
    keyId: rest.slice(0, colon),
    bytes: body === IN_EVENT ? undefined : Buffer.from(body, 'base64url'),
  };
}

/** Additional authenticated data of an event's sealed bytes: they only open in the event type and field they were sealed in. */
export function fieldAad(type: string, pointer: string): Buffer {
  return Buffer.from(`keel-phi-field\0${type}\0${pointer}`);
}

const POOL_IVS = 4096;
const IV_BYTES = 12;
const pool = Buffer.alloc(POOL_IVS * IV_BYTES);
let next = POOL_IVS;

/**
 * A fresh random 96-bit GCM nonce. Taken from a pool filled by the system's CSPRNG 4,096 nonces at a time:
 * one `randomBytes` call per nonce costs more than the encryption of a few fields.
 */
export function freshIv(): Buffer {
  if (next === POOL_IVS) {
    randomFillSync(pool);
    next = 0;
  }
  const iv = Buffer.from(pool.subarray(next * IV_BYTES, (next + 1) * IV_BYTES));
  next++;
  return iv;
}
