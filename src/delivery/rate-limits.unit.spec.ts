import { describe, expect, it } from 'vitest';
import { createRateLimits, createTokenBucket, rateLimitOf } from './rate-limits.ts';
import { deliveryPolicySchema } from './subscription.ts';

describe('token bucket per subscription', () => {
  it('lets a burst go at once, then one request per interval, in the order asked', () => {
    const bucket = createTokenBucket({ perSecond: 10, burst: 3 });
    expect([0, 0, 0, 0, 0, 0].map(() => bucket.reserve(1_000))).toEqual([0, 0, 0, 100, 200, 300]);
    // Half a second later two slots are free again: the next waits for the one after them.
    expect([1_500, 1_500, 1_500].map((now) => bucket.reserve(now))).toEqual([0, 0, 100]);
  });

  it('refills no more than its burst after a quiet spell', () => {
    const bucket = createTokenBucket({ perSecond: 2, burst: 2 });
    bucket.reserve(0);
    expect([60_000, 60_000, 60_000].map((now) => bucket.reserve(now))).toEqual([0, 0, 500]);
  });

  it('grants a one-second burst by default and no limit without a rate', () => {
    expect(rateLimitOf(deliveryPolicySchema.parse({ ratePerSecond: 50 }))).toEqual({
      perSecond: 50,
      burst: 50,
    });
    expect(rateLimitOf(deliveryPolicySchema.parse({ ratePerSecond: 0.5 }))).toEqual({
      perSecond: 0.5,
      burst: 1,
    });
    expect(rateLimitOf(deliveryPolicySchema.parse({}))).toBeUndefined();
  });

  it('keeps one bucket per subscription: a limited one waiting does not hold another', async () => {
    const limits = createRateLimits();
    const limited = {
      name: 'limited',
      policy: deliveryPolicySchema.parse({ ratePerSecond: 0.1, rateBurst: 1 }),
    };
    const other = { name: 'other', policy: deliveryPolicySchema.parse({ ratePerSecond: 0.1, rateBurst: 1 }) };
    const free = { name: 'free', policy: deliveryPolicySchema.parse({}) };
    const controller = new AbortController();
    await limits.take(limited, controller.signal);
    const waiting = limits.take(limited, controller.signal); // its next token is ten seconds away
    await limits.take(other, controller.signal);
    await limits.take(free, controller.signal);
    controller.abort(new Error('stopped'));
    await expect(waiting).rejects.toThrow('stopped');
  });

  it('refuses a rate out of bounds', () => {
    expect(deliveryPolicySchema.safeParse({ ratePerSecond: 0 }).success).toBe(false);
    expect(deliveryPolicySchema.safeParse({ rateBurst: 0 }).success).toBe(false);
  });
});
