import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  breakerOptionsSchema,
  createPublishPolicy,
  isRetryablePublishError,
  retryOptionsSchema,
} from './publish-policy.ts';

const policyWith = (breaker: unknown) =>
  createPublishPolicy({
    name: 'p',
    retry: retryOptionsSchema.parse({}),
    breaker: breakerOptionsSchema.parse(breaker),
    isRetryable: isRetryablePublishError,
    metrics: undefined,
    logger: pino({ level: 'silent' }),
  });

// Appends finishing together, through the breaker; `fails(i)` says which ones the transport refuses.
const appendsTogether = (
  policy: ReturnType<typeof policyWith>,
  calls: number,
  fails: (i: number) => boolean,
) =>
  Promise.allSettled(
    Array.from({ length: calls }, (_, i) =>
      policy.once(async () => {
        await Promise.resolve();
        if (fails(i)) throw Object.assign(new Error('broker unreachable'), { code: 'ECONNREFUSED' });
        return i;
      }),
    ),
  );

describe("publisher's circuit breaker under concurrency", () => {
  it('stays closed when concurrent failed appends are interleaved with successful ones', async () => {
    const policy = policyWith({ threshold: 5, halfOpenAfterMs: 60_000 });
    const results = await appendsTogether(policy, 40, (i) => i % 2 === 0);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(20);
    expect(policy.state()).toBe('closed');
    policy.dispose();
  });

  it('opens on a real run of failed appends', async () => {
    const policy = policyWith({ threshold: 5, halfOpenAfterMs: 60_000 });
    await appendsTogether(policy, 10, (i) => i >= 2);
    expect(policy.state()).toBe('open');
    policy.dispose();
  });

  it('with a failure rate, opens above it and stays closed below it', async () => {
    // Judged from 20 calls in the window on: the first failures alone say little.
    const failureRate = { threshold: 0.3, windowMs: 1_000, minimumRps: 20 };
    const low = policyWith({ failureRate, halfOpenAfterMs: 60_000 });
    await appendsTogether(low, 60, (i) => i % 10 === 0);
    expect(low.state()).toBe('closed');
    const high = policyWith({ failureRate, halfOpenAfterMs: 60_000 });
    await appendsTogether(high, 60, (i) => i % 2 === 0);
    expect(high.state()).toBe('open');
    low.dispose();
    high.dispose();
  });

  it('refuses a failure rate outside (0, 1), naming the key', () => {
    expect(() => breakerOptionsSchema.parse({ failureRate: { threshold: 1.5, windowMs: 1_000 } })).toThrow(
      /share between 0 and 1/,
    );
  });
});
