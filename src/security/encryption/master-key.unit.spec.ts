import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MasterKeyError } from './errors.ts';
import { loadMasterKey, newMasterKeyText, unwrapDataKey, wrapDataKey } from './master-key.ts';

const problem = (load: () => unknown) => {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(MasterKeyError);
    return { problem: (error as MasterKeyError).problem, message: (error as Error).message };
  }
  throw new Error('expected a MasterKeyError');
};

describe('master key', () => {
  it('reads base64 and hex of 32 bytes, from a value or a file, to the same fingerprint', () => {
    const bytes = randomBytes(32);
    const dir = mkdtempSync(join(tmpdir(), 'keel-master-'));
    try {
      writeFileSync(join(dir, 'key'), `${bytes.toString('base64')}\n`);
      const fromFile = loadMasterKey({ file: join(dir, 'key') });
      const fromHex = loadMasterKey({ value: bytes.toString('hex') });
      expect(fromFile.key).toEqual(bytes);
      expect(fromHex.id).toBe(fromFile.id);
      expect(fromFile.id).toMatch(/^[0-9a-f]{16}$/);
      expect(loadMasterKey({ value: newMasterKeyText() }).id).not.toBe(fromFile.id);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names what is wrong: missing, unreadable or malformed', () => {
    expect(problem(() => loadMasterKey({ label: 'KEEL_PHI_MASTER_KEY' }))).toEqual({
      problem: 'missing',
      message: 'KEEL_PHI_MASTER_KEY: no master key given; field encryption cannot start',
    });
    expect(problem(() => loadMasterKey({ file: '/nonexistent/key' })).problem).toBe('missing');
    expect(problem(() => loadMasterKey({ value: 'short' })).problem).toBe('malformed');
    expect(problem(() => loadMasterKey({ value: randomBytes(16).toString('base64') })).message).toContain(
      'must be 32 random bytes',
    );
  });

  it('wraps a data key so that only the same master key and key id unwrap it', () => {
    const master = loadMasterKey({ value: newMasterKeyText() });
    const other = loadMasterKey({ value: newMasterKeyText() });
    const dataKey = randomBytes(32);
    const wrapped = wrapDataKey(master, 'k1', dataKey);
    expect(unwrapDataKey(master, 'k1', wrapped)).toEqual(dataKey);
    expect(problem(() => unwrapDataKey(other, 'k1', wrapped)).problem).toBe('mismatch');
    expect(problem(() => unwrapDataKey(master, 'k2', wrapped)).problem).toBe('mismatch');
  });
});
