import type { Logger } from 'pino';
import { createRouter } from '../bus/router.ts';
import type { Router, RouterHealth } from '../bus/router-port.ts';
import type { Catalog } from '../events/catalog.ts';
import type { EventDefinition } from '../events/define-event.ts';
import type { KeelMetrics } from '../observability/metrics.ts';
import type { Transport } from '../transport/transport.ts';
import { type AttemptDeps, attemptDelivery } from './deliver-event.ts';
import { EndpointGoneError } from './errors.ts';
import { compileEventFilter } from './event-filter.ts';
import type { Subscription } from './subscription.ts';

/** What delivering one subscription needs. */
export interface RunnerDeps extends AttemptDeps {
  transport: Transport;
  catalog: Catalog;
  logger: Logger;
  metrics?: KeelMetrics | undefined;
  /** Told when the endpoint answered 410 Gone (called from inside a handler: must not wait for the router). */
  onGone(subscription: string): void;
}

/** Milliseconds in-flight deliveries get to finish when a subscription stops. */
export const STOP_DEADLINE_MS = 3_000;

/**
 * Group session timeout of a subscription's router, in milliseconds: Kafka's smallest by default. A router
 * that stops past its deadline waits this long for the deliveries it aborted before leaving the group.
 */
const SESSION_TIMEOUT_MS = 6_000;

/** The event definitions a subscription consumes: its filter's types, or every type of the catalog. */
export function definitionsOf(
  subscription: Pick<Subscription, 'filter'>,
  catalog: Catalog,
): EventDefinition[] {
  const types = subscription.filter.types;
  if (types === undefined) return catalog.topics.flatMap((topic) => [...topic.events]);
  return types.flatMap((type) => {
    const definition = catalog.event(type);
    return definition === undefined ? [] : [definition];
  });
}

/** Topics a subscription consumes. */
export function topicsOf(subscription: Pick<Subscription, 'filter'>, catalog: Catalog): string[] {
  return [...new Set(definitionsOf(subscription, catalog).map((d) => catalog.route(d.type).topic.name))];
}

/**
 * A Router in the subscription's own consumer group, with one handler per event type, each POSTing the
 * events that pass the filter: at least once (an offset commits only once its event was delivered or
 * dead-lettered), in order per partition key, concurrently across keys up to the policy's concurrency.
 * Failed attempts are retried in place with exponential backoff (holding only their key), then — with
 * ordering `none` — through delayed-retry topics, then to the group's dead-letter queue; the key's later
 * events are delivered after a dead-lettered one. A 410 Gone is not retried: the event is dead-lettered
 * and the subscription disabled.
 */
export function createSubscriptionRouter(subscription: Subscription, deps: RunnerDeps): Router {
  const { policy } = subscription;
  const matches = compileEventFilter(subscription.filter);
  const isRetryable = (error: unknown) => !(error instanceof EndpointGoneError);
  const router = createRouter({
    transport: deps.transport,
    catalog: deps.catalog,
    group: subscription.group,
    startFrom: 'earliest',
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
    concurrency: policy.concurrency,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    logger: deps.logger.child({ subscription: subscription.name }),
    retry: {
      maxAttempts: policy.maxAttempts,
      initialDelayMs: policy.initialDelayMs,
      maxDelayMs: policy.maxDelayMs,
      isRetryable,
    },
    delayedRetries: policy.ordering === 'key' ? [] : policy.delayedRetriesMs,
    // A dead-lettered delivery does not hold its key's later events: an endpoint's refusal of one event
    // (or its 410) is the subscription's to inspect and retry, not a reason to stop delivering the key.
    onDeadLetter: 'continue',
    isRetryable,
    circuitBreaker: false,
    validate: false,
    shutdownSignals: [],
  });
  for (const definition of definitionsOf(subscription, deps.catalog)) {
    router.on(
      definition,
      async (event, context) => {
        if (!matches(event)) return;
        try {
          await attemptDelivery(subscription, event, 'live', context.signal, deps);
        } catch (error) {
          if (error instanceof EndpointGoneError) deps.onGone(subscription.name);
          throw error;
        }
      },
      { name: `${subscription.name}:${definition.type}`, ordering: policy.ordering },
    );
  }
  return router;
}

/** A running subscription's figures: the router's health. */
export type RunnerHealth = Pick<RouterHealth, 'status' | 'inFlight' | 'waitingForRetry' | 'lastError'>;
