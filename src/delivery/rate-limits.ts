import { abortableSleep } from '../bus/abortable-sleep.ts';
import type { Subscription } from './subscription.ts';

/** The requests a subscription may make: `perSecond` on average, `burst` at once after a quiet spell. */
export interface RateLimit {
  perSecond: number;
  burst: number;
}

/** One token bucket per subscription, so a limited subscription waits and no other does. */
export interface RateLimits {
  /**
   * Resolves when the subscription may send its next request (at once without a limit); rejects with the
   * signal's reason if it aborts while waiting. Waiters go in the order they asked.
   */
  take(subscription: Pick<Subscription, 'name' | 'policy'>, signal: AbortSignal): Promise<void>;
  /** Forgets a subscription's bucket (deleted or replaced). */
  forget(name: string): void;
}

/** A subscription's limit from its policy, or undefined when it has none. */
export function rateLimitOf(policy: Subscription['policy']): RateLimit | undefined {
  if (policy.ratePerSecond === undefined) return undefined;
  return {
    perSecond: policy.ratePerSecond,
    burst: policy.rateBurst ?? Math.max(1, Math.floor(policy.ratePerSecond)),
  };
}

/**
 * A token bucket kept as the time the next token is due (the generic cell rate algorithm): each request
 * reserves a slot `1 / perSecond` after the previous one, and may go up to `burst - 1` slots early. A
 * reservation is never given back, so an aborted waiter can only make the rate lower, never higher.
 */
export function createTokenBucket(limit: RateLimit) {
  const interval = 1_000 / limit.perSecond;
  const tolerance = (limit.burst - 1) * interval;
  let due = Number.NEGATIVE_INFINITY;
  return {
    limit,
    /** Milliseconds to wait before the next request may go (0: now), reserving its slot. */
    reserve(now: number): number {
      due = Math.max(due, now);
      const allowedAt = due - tolerance;
      due += interval;
      return Math.max(0, allowedAt - now);
    },
  };
}

/** Creates the per-subscription buckets; a bucket is made on first use and again when the limit changes. */
export function createRateLimits(): RateLimits {
  const buckets = new Map<string, ReturnType<typeof createTokenBucket>>();
  return {
    async take(subscription, signal) {
      const limit = rateLimitOf(subscription.policy);
      if (limit === undefined) return;
      let bucket = buckets.get(subscription.name);
      if (bucket?.limit.perSecond !== limit.perSecond || bucket.limit.burst !== limit.burst) {
        bucket = createTokenBucket(limit);
        buckets.set(subscription.name, bucket);
      }
      const wait = bucket.reserve(performance.now());
      if (wait > 0) await abortableSleep(wait, signal);
      signal.throwIfAborted();
    },
    forget(name) {
      buckets.delete(name);
    },
  };
}
