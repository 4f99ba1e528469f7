import type { FastifyInstance } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import { UNAUTHENTICATED_ADMIN } from '../../security/identity/identity.ts';
import { problem, sendProblem } from '../problem.ts';

/** How many requests each identity may make. */
export interface RateLimitOptions {
  /** Requests per second an identity may sustain (tokens added per second). */
  perSecond: number;
  /** Requests an identity may make at once (the bucket's size). */
  burst: number;
  /** Where refusals are counted (`keel_rate_limited_total`); none: not counted. */
  registry?: Registry;
  /** Milliseconds since the epoch; `Date.now` unless a test drives time. */
  now?: () => number;
}

/** Identities whose buckets are kept at most; beyond it, full buckets are forgotten first. */
const MAX_BUCKETS = 10_000;

interface Bucket {
  tokens: number;
  /** When `tokens` was computed, in milliseconds since the epoch. */
  at: number;
}

/** A token bucket per identity subject: `take` spends one token, or says how long until one is back. */
export function createTokenBuckets(options: Pick<RateLimitOptions, 'perSecond' | 'burst' | 'now'>) {
  const now = options.now ?? Date.now;
  const buckets = new Map<string, Bucket>();
  const refill = (bucket: Bucket, at: number) => {
    bucket.tokens = Math.min(options.burst, bucket.tokens + ((at - bucket.at) / 1000) * options.perSecond);
    bucket.at = at;
  };
  const forgetFull = (at: number) => {
    for (const [subject, bucket] of buckets) {
      refill(bucket, at);
      if (bucket.tokens >= options.burst) buckets.delete(subject);
    }
  };
  return {
    /** Spends a token of `subject`: 0 when there was one, otherwise the milliseconds until there is. */
    take(subject: string): number {
      const at = now();
      let bucket = buckets.get(subject);
      if (bucket === undefined) {
        if (buckets.size >= MAX_BUCKETS) forgetFull(at);
        bucket = { tokens: options.burst, at };
        buckets.set(subject, bucket);
      } else {
        refill(bucket, at);
      }
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      return Math.ceil(((1 - bucket.tokens) / options.perSecond) * 1000);
    },
  };
}

/**
 * Limits each authenticated identity (API key or token subject) to a token bucket: past it, 429 problem+json
 * with `Retry-After` in whole seconds, counted by how the identity authenticated. Runs after authentication;
 * the anonymous identity of a node with auth off is not limited (it is one local user).
 */
export function registerRateLimit(app: FastifyInstance, options: RateLimitOptions): void {
  const buckets = createTokenBuckets(options);
  const limited = options.registry
    ? new Counter({
        name: 'keel_rate_limited_total',
        help: 'Requests refused with 429 because their identity spent its rate limit, by how it authenticated.',
        labelNames: ['via'],
        registers: [options.registry],
      })
    : undefined;
  app.addHook('onRequest', async (request, reply) => {
    const identity = request.identity;
    if (identity === undefined || identity.via === UNAUTHENTICATED_ADMIN.via) return;
    const waitMs = buckets.take(identity.subject);
    if (waitMs === 0) return;
    limited?.inc({ via: identity.via });
    const seconds = Math.max(1, Math.ceil(waitMs / 1000));
    reply.header('retry-after', String(seconds));
    return sendProblem(
      reply,
      problem(
        'rate-limited',
        429,
        'Too many requests',
        `this identity may make ${options.perSecond} requests per second (bursts of ${options.burst}): retry in ${seconds} s`,
        { retryAfterSeconds: seconds },
      ),
    );
  });
}
