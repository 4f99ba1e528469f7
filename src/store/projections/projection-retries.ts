import { ExponentialBackoff, type IBackoff } from 'cockatiel';
import type { Logger } from 'pino';
import { isRetryableReadError, sleepUnlessAborted } from '../subscription.ts';

/** How a projection retries failed reads and batches. */
export interface ProjectionRetryPolicy {
  projection: string;
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  logger: Logger | undefined;
  /** Aborted when the projection stops: retries end at once. */
  signal: AbortSignal;
}

/** Runs work again after retryable failures, with exponential backoff and jitter; undefined when stopped meanwhile. */
export type WithRetries = <T>(what: string, work: () => Promise<T>) => Promise<T | undefined>;

/** The retry loop of a projection: gives up (throws) on an error no retry cures, or after `maxAttempts`. */
export function createProjectionRetries(policy: ProjectionRetryPolicy): WithRetries {
  const { signal } = policy;
  const backoff = new ExponentialBackoff({
    initialDelay: policy.initialDelayMs,
    maxDelay: policy.maxDelayMs,
  });
  return async <T>(what: string, work: () => Promise<T>): Promise<T | undefined> => {
    let delay: IBackoff<unknown> | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        if (signal.aborted) return undefined;
        if (!isRetryableReadError(error) || attempt >= policy.maxAttempts) throw error;
        policy.logger?.warn(
          { err: error, projection: policy.projection, attempt },
          `projection ${what} failed; retrying`,
        );
        delay = delay === undefined ? backoff.next() : delay.next(undefined);
        await sleepUnlessAborted(delay.duration, signal);
        if (signal.aborted) return undefined;
      }
    }
  };
}
