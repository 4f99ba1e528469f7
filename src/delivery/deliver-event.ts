import type { CloudEvent } from '../events/cloud-event.ts';
import type { DeliveryStore } from './delivery-store.ts';
import type { EndpointBreakers } from './endpoint-breakers.ts';
import { DeliveryFailedError, EndpointGoneError } from './errors.ts';
import type { RateLimits } from './rate-limits.ts';
import { type SendResult, sendEvent } from './send-event.ts';
import type { Subscription } from './subscription.ts';

/** What one delivery attempt needs. */
export interface AttemptDeps {
  store: DeliveryStore;
  breakers: EndpointBreakers;
  /** Each subscription's token bucket: an attempt waits for a token before it is sent. */
  limits: RateLimits;
}

/**
 * Makes one attempt at delivering an event to a subscription's endpoint, once its rate limit lets it go,
 * through the endpoint's breaker, and records it. Resolves on a 2xx answer; throws EndpointGoneError on 410 and DeliveryFailedError on
 * anything else (another status, a timeout, a network error), for the caller's retry policy to judge.
 */
export async function attemptDelivery(
  subscription: Subscription,
  event: CloudEvent,
  kind: 'live' | 'replay',
  signal: AbortSignal,
  deps: AttemptDeps,
): Promise<SendResult> {
  const target = { ...subscription, timeoutMs: subscription.policy.timeoutMs };
  await deps.limits.take(subscription, signal);
  return deps.breakers.run(
    subscription.url,
    async () => {
      const result = await sendEvent(target, event, signal);
      const ok = result.status !== undefined && result.status >= 200 && result.status < 300;
      const gone = result.status === 410;
      deps.store.record({
        subscription: subscription.name,
        eventId: event.id,
        eventType: event.type,
        partitionKey: event.partitionkey,
        kind,
        outcome: ok ? 'delivered' : gone ? 'gone' : 'failed',
        status: result.status,
        latencyMs: result.latencyMs,
        excerpt: result.excerpt,
        error: result.error,
        at: Date.now(),
      });
      if (ok) return result;
      if (gone) throw new EndpointGoneError(subscription.url);
      throw new DeliveryFailedError(
        subscription.url,
        result.status,
        result.error ?? (result.excerpt.slice(0, 200) || 'no body'),
      );
    },
    signal,
  );
}
