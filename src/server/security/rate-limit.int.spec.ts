import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTempNode, type TempNode } from '../test-support/temp-node.ts';
import { createTokenBuckets } from './rate-limit.ts';

describe('token buckets', () => {
  it('lets a burst through, then one request per refill interval, per subject', () => {
    let now = 0;
    const buckets = createTokenBuckets({ perSecond: 2, burst: 3, now: () => now });
    expect([buckets.take('a'), buckets.take('a'), buckets.take('a')]).toEqual([0, 0, 0]);
    expect(buckets.take('a')).toBe(500);
    expect(buckets.take('b')).toBe(0);
    now += 500;
    expect(buckets.take('a')).toBe(0);
    expect(buckets.take('a')).toBe(500);
    now += 10_000;
    // Refilled to the burst, never beyond it.
    expect([buckets.take('a'), buckets.take('a'), buckets.take('a'), buckets.take('a')]).toEqual([
      0, 0, 0, 500,
    ]);
  });
});

describe('rate limits per identity on the node', () => {
  let temp: TempNode;
  beforeAll(async () => {
    temp = await startTempNode({ config: { auth: 'required', rateLimit: 1, rateLimitBurst: 3 } });
  });
  afterAll(() => temp?.close());

  const whoami = (key: string) =>
    fetch(`${temp.node.url}/v1/whoami`, { headers: { authorization: `Bearer ${key}` } });

  it('answers 429 problem+json with Retry-After past the burst, per key, and counts it', async () => {
    const busy = temp.node.keys.create({ name: 'busy', roles: ['consumer'] });
    const calm = temp.node.keys.create({ name: 'calm', roles: ['consumer'] });
    const admin = temp.node.keys.create({ name: 'metrics', roles: ['admin'] });
    for (let i = 0; i < 3; i++) expect((await whoami(busy.key)).status).toBe(200);
    const limited = await whoami(busy.key);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await limited.json()).toMatchObject({
      type: 'https://keel.dev/problems/rate-limited',
      status: 429,
      retryAfterSeconds: expect.any(Number),
    });
    // Another identity has a bucket of its own.
    expect((await whoami(calm.key)).status).toBe(200);
    const metrics = await (
      await fetch(`${temp.node.url}/metrics`, { headers: { authorization: `Bearer ${admin.key}` } })
    ).text();
    expect(metrics).toMatch(/keel_rate_limited_total\{via="api-key"\} 1/);
  });

  it('does not limit a node with auth off (its one anonymous user), nor when set to 0', async () => {
    const open = await startTempNode({ config: { rateLimit: 1, rateLimitBurst: 1 } });
    try {
      for (let i = 0; i < 5; i++) expect((await fetch(`${open.node.url}/v1/whoami`)).status).toBe(200);
    } finally {
      await open.close();
    }
    const off = await startTempNode({ config: { auth: 'required', rateLimit: 0, rateLimitBurst: 1 } });
    try {
      const { key } = off.node.keys.create({ name: 'k', roles: ['consumer'] });
      for (let i = 0; i < 5; i++) {
        expect(
          (await fetch(`${off.node.url}/v1/whoami`, { headers: { authorization: `Bearer ${key}` } })).status,
        ).toBe(200);
      }
    } finally {
      await off.close();
    }
  });
});
