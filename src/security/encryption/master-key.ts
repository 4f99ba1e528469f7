import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { MasterKeyError } from './errors.ts';
import { freshIv } from './sealed-value.ts';

/** Bytes of every key (master and data keys): AES-256. */
export const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A loaded master key: the 32 bytes, and the fingerprint stored beside what it wraps. */
export interface MasterKey {
  /** Key-encryption key (AES-256-GCM) wrapping every data key. */
  readonly key: Buffer;
  /** First 16 hex digits of SHA-256 over a label and the key: names the key without revealing it. */
  readonly id: string;
}

/** Where the master key comes from: a file, or a value (an environment variable's), base64 or hex of 32 bytes. */
export interface MasterKeySource {
  /** Path of a file holding the key (base64 or hex, surrounding whitespace ignored). */
  file?: string;
  /** The key itself (base64 or hex). */
  value?: string;
  /** Names the source in errors, e.g. `KEEL_PHI_MASTER_KEY`. */
  label?: string;
}

/** Makes a new random master key, as base64 (what `openssl rand -base64 32` makes too). */
export function newMasterKeyText(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

/** Loads and checks a master key; throws MasterKeyError naming the source when missing or malformed. */
export function loadMasterKey(source: MasterKeySource): MasterKey {
  const label = source.label ?? (source.file === undefined ? 'master key' : `master key file ${source.file}`);
  let text = source.value;
  if (text === undefined && source.file !== undefined) {
    try {
      text = readFileSync(source.file, 'utf8');
    } catch (error) {
      throw new MasterKeyError('missing', `${label}: cannot read it (${(error as Error).message})`);
    }
  }
  if (text === undefined || text.trim() === '') {
    throw new MasterKeyError('missing', `${label}: no master key given; field encryption cannot start`);
  }
  return masterKeyFrom(decodeKey(text.trim(), label));
}

/** A master key from its 32 raw bytes. */
export function masterKeyFrom(key: Buffer): MasterKey {
  if (key.length !== KEY_BYTES) {
    throw new MasterKeyError('malformed', `a master key is ${KEY_BYTES} bytes, got ${key.length}`);
  }
  const id = createHash('sha256').update('keel-phi-master-key\0').update(key).digest('hex').slice(0, 16);
  return Object.freeze({ key, id });
}

function decodeKey(text: string, label: string): Buffer {
  const bytes = /^[0-9a-fA-F]{64}$/.test(text)
    ? Buffer.from(text, 'hex')
    : /^[A-Za-z0-9+/_-]+={0,2}$/.test(text)
      ? Buffer.from(text, 'base64')
      : undefined;
  if (bytes?.length !== KEY_BYTES) {
    throw new MasterKeyError(
      'malformed',
      `${label}: must be ${KEY_BYTES} random bytes written as base64 (44 characters) or hex (64 digits)`,
    );
  }
  return bytes;
}

/** Encrypts with AES-256-GCM: iv ‖ ciphertext ‖ tag, bound to `aad`. */
export function encrypt(key: Buffer, plain: Buffer, aad: Buffer): Buffer {
  const iv = freshIv();
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

/** Decrypts what `encrypt` made; throws when the key, the bytes or `aad` do not match. */
export function decrypt(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new Error('sealed value too short');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  return Buffer.concat([
    decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
    decipher.final(),
  ]);
}

/** A data key wrapped by the master key, bound to its key id so a wrapped key cannot be moved to another row. */
export function wrapDataKey(master: MasterKey, keyId: string, dataKey: Buffer): Buffer {
  return encrypt(master.key, dataKey, Buffer.from(`keel-phi-data-key\0${keyId}`));
}

/** The data key `wrapDataKey` wrapped; throws MasterKeyError when this master key did not wrap it. */
export function unwrapDataKey(master: MasterKey, keyId: string, wrapped: Buffer): Buffer {
  try {
    return decrypt(master.key, wrapped, Buffer.from(`keel-phi-data-key\0${keyId}`));
  } catch {
    throw new MasterKeyError(
      'mismatch',
      `data key ${keyId} does not unwrap with master key ${master.id}: wrong master key, or the key store was altered`,
    );
  }
}
