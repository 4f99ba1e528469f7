// What authentication and authorization cost per request: the checks alone (an API key looked up and its
// hash compared, a route's permission decided; an OpenID Connect token verified with jose against a key set),
// and the same GET answered by two nodes in one run, one with authentication off and one requiring an API key.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { pino } from 'pino';
import { catalog } from '../examples/catalog.ts';
import { configSchema } from '../src/config/config-schema.ts';
import { isAllowed } from '../src/security/authorization/authorize.ts';
import { createApiKeyStore } from '../src/security/identity/api-key-store.ts';
import { createNode, type KeelNode } from '../src/server/node.ts';
import { createTokenBuckets } from '../src/server/security/rate-limit.ts';
import { accessOf } from '../src/server/security/route-access.ts';
import type { BenchResult } from './stats.ts';

const ROUNDS = Number(process.env.KEEL_BENCH_SECURITY_ROUNDS ?? 50_000);
const REQUESTS = Number(process.env.KEEL_BENCH_SECURITY_REQUESTS ?? 5_000);

/** Microseconds per call of `work`, over `rounds` calls after a warm-up of a tenth of them. */
async function microsPerCall(rounds: number, work: () => unknown): Promise<number> {
  for (let i = 0; i < rounds / 10; i++) await work();
  const started = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) await work();
  return Number(process.hrtime.bigint() - started) / 1000 / rounds;
}

/** The API key check and the route decision, as the request hook makes them. */
async function keyCheck(dir: string, cacheMs: number): Promise<number> {
  const store = createApiKeyStore({ path: join(dir, `security-${cacheMs}.db`), cacheMs });
  const { key } = store.create({ name: 'bench', roles: ['consumer'], topics: ['healthcare.*'] });
  const micros = await microsPerCall(ROUNDS, () => {
    const identity = store.authenticate(key);
    const access = accessOf('GET', '/v1/topics/:topic/messages');
    if (
      !access ||
      !isAllowed(identity, { permission: access.permission, topic: 'healthcare.patients.events' })
    ) {
      throw new Error('refused');
    }
  });
  store.close();
  return micros;
}

/** A signed RS256 token verified with jose against the issuer's key set (already fetched). */
async function tokenCheck(): Promise<number> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'RS256' };
  const issuer = 'https://idp.bench/realms/keel';
  const token = await new SignJWT({ roles: ['consumer'], tenants: ['acme'] })
    .setProtectedHeader({ alg: 'RS256', kid: 'bench' })
    .setIssuer(issuer)
    .setAudience('keel-api')
    .setSubject('bench')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(privateKey);
  // A key set served locally: the network fetch happens once per key rotation, not per request.
  const keys = createLocalJWKSet({ keys: [jwk] });
  const { jwtVerify } = await import('jose');
  const verify = async () => {
    const { payload } = await jwtVerify(token, keys, { issuer, audience: 'keel-api' });
    return payload;
  };
  return microsPerCall(ROUNDS / 10, verify);
}

/** Mean microseconds of one in-process GET of `url` on `node`, `headers` sent. */
async function requestMicros(node: KeelNode, url: string, headers: Record<string, string>): Promise<number> {
  return microsPerCall(REQUESTS, async () => {
    const answer = await node.app.inject({ method: 'GET', url, headers });
    if (answer.statusCode !== 200) throw new Error(`GET ${url}: ${answer.statusCode}`);
  });
}

/** Runs the security benchmarks. */
export async function securityBenchmarks(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-bench-security-'));
  const nodes: KeelNode[] = [];
  try {
    const key = await keyCheck(dir, 1_000);
    const keyUncached = await keyCheck(dir, 0);
    const token = await tokenCheck();
    const open = (auth: 'off' | 'required', name: string) => {
      const config = configSchema.parse({
        port: 0,
        logLevel: 'silent',
        sync: 'normal',
        auth,
        // Limits high enough never to refuse: the bucket's cost is in the figure, its 429s are not.
        rateLimit: 1_000_000,
        rateLimitBurst: 1_000_000,
        dataDir: join(dir, name),
      });
      const node = createNode({ config, catalog, logger: pino({ level: 'silent' }) });
      nodes.push(node);
      return node;
    };
    const off = open('off', 'off');
    const on = open('required', 'on');
    await Promise.all([off.start(), on.start()]);
    const apiKey = on.keys.create({ name: 'bench', roles: ['consumer'] }).key;
    const url = '/v1/catalog/types';
    // Alternated, so neither node profits from running second.
    const plain: number[] = [];
    const checked: number[] = [];
    for (let round = 0; round < 3; round++) {
      plain.push(await requestMicros(off, url, {}));
      checked.push(await requestMicros(on, url, { authorization: `Bearer ${apiKey}` }));
    }
    const meanOf = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const added = meanOf(checked) - meanOf(plain);
    const buckets = createTokenBuckets({ perSecond: 1e9, burst: 1e9 });
    let caller = 0;
    const bucket = await microsPerCall(ROUNDS, () => buckets.take(`key:${(caller++ % 1000).toString(16)}`));
    return [
      {
        name: 'security: API key check + route authorization',
        value: Number(key.toFixed(1)),
        unit: 'µs/request',
        target: 50,
        better: 'lower',
        note: `${ROUNDS} rounds: SHA-256 of the key, checked-key cache (1 s; a SQLite lookup by prefix on a miss), permission and topic pattern`,
      },
      {
        name: 'security: API key check without the checked-key memory (a SQLite lookup each time)',
        value: Number(keyUncached.toFixed(1)),
        unit: 'µs/request',
        note: `${ROUNDS} rounds: what the first request of a key pays each second`,
      },
      {
        name: 'security: OIDC token verification (RS256, jose)',
        value: Number(token.toFixed(1)),
        unit: 'µs/request',
        note: `${ROUNDS / 10} rounds, key set already fetched`,
      },
      {
        name: 'security: rate limit (token bucket per identity)',
        value: Number(bucket.toFixed(2)),
        unit: 'µs/request',
        note: `${ROUNDS} rounds over 1,000 identities: refill and spend one token`,
      },
      {
        // No target here: on a shared machine two identical nodes differ by more than the check costs; the
        // check itself is the line above.
        name: 'security: added to a GET by authentication required (API key)',
        value: Number(added.toFixed(1)),
        unit: 'µs/request',
        note: `GET ${url} in process: ${meanOf(plain).toFixed(1)} µs with auth off, ${meanOf(checked).toFixed(1)} µs with an API key; ${REQUESTS} requests × 3 each, alternated`,
      },
    ];
  } finally {
    await Promise.all(nodes.map((node) => node.close()));
    rmSync(dir, { recursive: true, force: true });
  }
}
