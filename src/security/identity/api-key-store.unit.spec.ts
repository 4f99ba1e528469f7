import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createApiKeyStore } from './api-key-store.ts';

const dirs: string[] = [];
const tempFile = () => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-keys-'));
  dirs.push(dir);
  return join(dir, 'security.db');
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('API key store', () => {
  it('shows a key once, keeps only its hash, and finds it again by its prefix', () => {
    const path = tempFile();
    const store = createApiKeyStore({ path });
    const { key, record } = store.create({ name: 'ci', roles: ['producer'], tenants: ['acme'] });
    expect(key).toMatch(/^keel_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/);
    expect(key.slice(5, 13)).toBe(record.prefix);
    const identity = store.authenticate(key);
    expect(identity).toMatchObject({
      subject: `key:${record.prefix}`,
      name: 'ci',
      roles: ['producer'],
      tenants: ['acme'],
    });
    store.close();

    // Neither the table nor the file (with its WAL) holds the secret part of the key.
    const db = new BetterSqlite3(path, { readonly: true });
    const rows = db.prepare('SELECT * FROM api_keys').all() as Record<string, unknown>[];
    db.close();
    expect(JSON.stringify(rows)).not.toContain(key.slice(14));
    for (const file of [path, `${path}-wal`]) {
      const bytes = (() => {
        try {
          return readFileSync(file).toString('latin1');
        } catch {
          return '';
        }
      })();
      expect(bytes.includes(key.slice(14))).toBe(false);
    }
  });

  it('refuses unknown, tampered, malformed, revoked and expired keys, naming why', () => {
    let now = 1_000_000;
    const store = createApiKeyStore({ path: tempFile(), now: () => now });
    const { key, record } = store.create({
      name: 'a',
      roles: ['consumer'],
      expiresAt: new Date(now + 60_000),
    });
    const other = store.create({ name: 'b', roles: ['consumer'] });
    const tampered = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
    expect(() => store.authenticate(tampered)).toThrow(/not known/);
    expect(() => store.authenticate('keel_nothex00_x')).toThrow(/malformed/);
    expect(() => store.authenticate(`keel_00000000_${key.slice(14)}`)).toThrow(/not known/);
    expect(store.authenticate(key).name).toBe('a');
    now += 60_000;
    expect(() => store.authenticate(key)).toThrow(/expired/);
    expect(store.revoke(other.record.prefix)).toBe(true);
    expect(store.revoke(other.record.prefix)).toBe(false);
    expect(() => store.authenticate(other.key)).toThrow(/revoked/);
    expect(() => store.revoke('ffffffff')).toThrow(/no API key has the prefix "ffffffff"/);
    expect(store.list().map((r) => [r.prefix, r.revokedAt !== null])).toEqual(
      expect.arrayContaining([
        [record.prefix, false],
        [other.record.prefix, true],
      ]),
    );
    store.close();
  });

  it('refuses a key without a role or with an unknown one, and writes nothing', () => {
    const store = createApiKeyStore({ path: tempFile() });
    expect(() => store.create({ name: 'x', roles: [] })).toThrow(/key\.roles/);
    expect(() => store.create({ name: 'x', roles: ['root' as never] })).toThrow(/key\.roles\.0/);
    expect(() => store.create({ name: ' ', roles: ['admin'] })).toThrow(/key\.name/);
    expect(store.list()).toEqual([]);
    store.close();
  });
});
