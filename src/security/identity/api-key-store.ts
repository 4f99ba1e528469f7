import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { z } from 'zod';
import { parseOptions } from '../../errors/options.ts';
import { runSqliteMigrations } from '../../sql/sqlite/migration-runner.ts';
import { openSqlite } from '../../sql/sqlite/open-sqlite.ts';
import { ApiKeyError, AuthenticationError } from '../errors.ts';
import { apiKeyMigrations } from './api-key-schema.ts';
import { ANY, type Identity, ROLES, type Role } from './identity.ts';

/** File name of the API keys' SQLite database inside the node's data folder. */
export const SECURITY_FILE_NAME = 'security.db';

/** What every API key starts with, so a scanner (or a person) recognises one. */
export const API_KEY_MARK = 'keel_';

/** An API key as stored: everything but the key itself, of which only a hash is kept. */
export interface ApiKeyRecord {
  /** The key's public part (8 hex digits): names it in lists, logs and `keel keys revoke`. */
  prefix: string;
  name: string;
  roles: Role[];
  tenants: string[];
  topics: string[];
  types: string[];
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

const scope = z.array(z.string().min(1).max(200)).min(1).max(100);

/** What a new key may do: roles and scopes (`*` for all), and when it stops working. */
export const newApiKeySchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
  roles: z.array(z.enum(ROLES)).min(1),
  tenants: scope.default([ANY]),
  topics: scope.default([ANY]),
  types: scope.default([ANY]),
  /** Expiry as a date; none: the key works until revoked. */
  expiresAt: z.date().optional(),
});

/** What a new key may do (see newApiKeySchema). */
export type NewApiKey = z.input<typeof newApiKeySchema>;

/** The node's API keys. */
export interface ApiKeyStore {
  /** Makes a key; the answer holds the key itself, which is never stored nor shown again. */
  create(spec: NewApiKey): { key: string; record: ApiKeyRecord };
  /** Every key, newest first (never the keys themselves). */
  list(): ApiKeyRecord[];
  /** Revokes a key by its prefix; true when it was active. Throws ApiKeyError for an unknown prefix. */
  revoke(prefix: string): boolean;
  /** The identity of a presented key; throws AuthenticationError when unknown, revoked or expired. */
  authenticate(key: string): Identity;
  close(): void;
}

/** How the store is opened. */
export interface ApiKeyStoreOptions {
  /** SQLite file (`<dataDir>/security.db`), or `:memory:`. */
  path: string;
  /**
   * Milliseconds a checked key is remembered in memory, so a busy client costs a hash, not a query, per
   * request; default 1 000. A key revoked through this store stops at once; through another process (the
   * `keel keys revoke` command) within this time.
   */
  cacheMs?: number;
  now?: () => number;
}

interface Row {
  prefix: string;
  hash: string;
  name: string;
  roles: string;
  tenants: string;
  topics: string;
  types: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
}

const KEY_SHAPE = /^keel_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$/;

/** Opens (creating if needed) the API keys' table. */
export function createApiKeyStore(options: ApiKeyStoreOptions): ApiKeyStore {
  const now = options.now ?? Date.now;
  const db: Database = openSqlite({
    path: options.path,
    prepare: (opened) => runSqliteMigrations(opened, apiKeyMigrations),
  });
  const insert = db.prepare(
    `INSERT INTO api_keys (prefix, hash, name, roles, tenants, topics, types, created_at, expires_at)
     VALUES (@prefix, @hash, @name, @roles, @tenants, @topics, @types, @created_at, @expires_at)`,
  );
  const byPrefix = db.prepare<[string], Row>('SELECT * FROM api_keys WHERE prefix = ?');
  const all = db.prepare<[], Row>('SELECT * FROM api_keys ORDER BY created_at DESC, prefix');
  const revoke = db.prepare('UPDATE api_keys SET revoked_at = ? WHERE prefix = ? AND revoked_at IS NULL');
  const cacheMs = options.cacheMs ?? 1_000;
  const checked = new Map<string, { identity: Identity; expiresAt: number | null; until: number }>();

  return {
    create(spec) {
      const parsed = parseOptions(newApiKeySchema, spec, 'key');
      const prefix = randomBytes(4).toString('hex');
      const key = `${API_KEY_MARK}${prefix}_${randomBytes(32).toString('base64url')}`;
      const row = {
        prefix,
        hash: hashOf(key),
        name: parsed.name,
        roles: JSON.stringify(parsed.roles),
        tenants: JSON.stringify(parsed.tenants),
        topics: JSON.stringify(parsed.topics),
        types: JSON.stringify(parsed.types),
        created_at: now(),
        expires_at: parsed.expiresAt?.getTime() ?? null,
      };
      insert.run(row);
      return { key, record: recordOf({ ...row, revoked_at: null }) };
    },
    list: () => all.all().map(recordOf),
    revoke(prefix) {
      if (byPrefix.get(prefix) === undefined) throw new ApiKeyError(`no API key has the prefix "${prefix}"`);
      checked.clear();
      return revoke.run(now(), prefix).changes === 1;
    },
    authenticate(key) {
      const match = KEY_SHAPE.exec(key);
      if (!match) throw new AuthenticationError('the API key is malformed');
      const hash = hashOf(key);
      const at = now();
      const remembered = checked.get(hash);
      if (remembered !== undefined && remembered.until > at) {
        if (remembered.expiresAt !== null && remembered.expiresAt <= at) {
          throw new AuthenticationError('the API key has expired');
        }
        return remembered.identity;
      }
      const row = byPrefix.get(match[1] as string);
      if (row === undefined || !sameHash(row.hash, hash)) {
        throw new AuthenticationError('the API key is not known');
      }
      if (row.revoked_at !== null) throw new AuthenticationError('the API key was revoked');
      if (row.expires_at !== null && row.expires_at <= now()) {
        throw new AuthenticationError('the API key has expired');
      }
      const identity = identityOf(recordOf(row));
      if (cacheMs > 0) {
        // Bounded: a flood of distinct valid keys cannot grow it past a few thousand entries.
        if (checked.size >= 4_096) checked.clear();
        checked.set(hash, { identity, expiresAt: row.expires_at, until: at + cacheMs });
      }
      return identity;
    },
    close: () => db.close(),
  };
}

/** SHA-256 of the whole key: the key holds 256 random bits, so a fast hash is as safe as a slow one here. */
function hashOf(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function sameHash(stored: string, presented: string): boolean {
  return timingSafeEqual(Buffer.from(stored, 'hex'), Buffer.from(presented, 'hex'));
}

function identityOf(record: ApiKeyRecord): Identity {
  return Object.freeze({
    subject: `key:${record.prefix}`,
    name: record.name,
    via: 'api-key',
    roles: record.roles,
    tenants: record.tenants,
    topics: record.topics,
    types: record.types,
  });
}

function recordOf(row: Row): ApiKeyRecord {
  return {
    prefix: row.prefix,
    name: row.name,
    roles: JSON.parse(row.roles) as Role[],
    tenants: JSON.parse(row.tenants) as string[],
    topics: JSON.parse(row.topics) as string[],
    types: JSON.parse(row.types) as string[],
    createdAt: new Date(row.created_at),
    expiresAt: row.expires_at === null ? null : new Date(row.expires_at),
    revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at),
  };
}
