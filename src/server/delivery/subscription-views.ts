import { z } from 'zod';
import type { SubscriptionState } from '../../delivery/delivery-manager.ts';
import type { DeliveryAttempt } from '../../delivery/delivery-store.ts';
import { deliveryPolicySchema, subscriptionFilterSchema } from '../../delivery/subscription.ts';

const iso = (ms: number) => new Date(ms).toISOString();

/** JSON shape of a subscription (the secret is never shown: only its first characters). */
export const subscriptionSchema = z.object({
  name: z.string(),
  url: z.string(),
  mode: z.enum(['binary', 'structured']),
  filter: subscriptionFilterSchema,
  policy: deliveryPolicySchema,
  secretHint: z.string().describe('The signing secret’s first characters, to tell secrets apart.'),
  status: z.enum(['active', 'disabled']),
  disabledReason: z.string().nullable(),
  group: z.string().describe('Consumer group delivering it.'),
  deadLetters: z.string().describe('Where its dead letters are inspected, retried and discarded.'),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  endpoint: z.enum(['closed', 'open', 'half-open']).describe('State of the endpoint’s circuit breaker.'),
  running: z
    .object({
      status: z.string(),
      inFlight: z.int().describe('Events fetched and not yet delivered or dead-lettered.'),
      waitingForRetry: z.int(),
      lastError: z.object({ type: z.string(), message: z.string(), at: z.string() }).nullable(),
    })
    .nullable()
    .describe('Delivery now; null while disabled.'),
});

/** JSON view of a subscription. */
export function subscriptionView(state: SubscriptionState): z.input<typeof subscriptionSchema> {
  return {
    name: state.name,
    url: state.url,
    mode: state.mode,
    filter: state.filter,
    policy: state.policy,
    secretHint: `${state.secret.slice(0, 10)}…`,
    status: state.status,
    disabledReason: state.disabledReason ?? null,
    group: state.group,
    deadLetters: `/v1/groups/${encodeURIComponent(state.group)}/dead-letters`,
    createdAt: iso(state.createdAt),
    updatedAt: iso(state.updatedAt),
    endpoint: state.endpoint,
    running:
      state.running === undefined
        ? null
        : {
            status: state.running.status,
            inFlight: state.running.inFlight,
            waitingForRetry: state.running.waitingForRetry,
            lastError: state.running.lastError ?? null,
          },
  };
}

/** JSON shape of one delivery attempt. */
export const attemptSchema = z.object({
  id: z.int(),
  eventId: z.string(),
  eventType: z.string(),
  partitionKey: z.string().nullable(),
  kind: z.enum(['live', 'replay']),
  outcome: z.enum(['delivered', 'failed', 'gone']),
  status: z.int().nullable().describe('HTTP status, or null when no answer came.'),
  latencyMs: z.number(),
  excerpt: z.string().describe('The start of the answer’s body.'),
  error: z.string().nullable().describe('Why no answer came (timeout, connection refused or reset).'),
  at: z.iso.datetime(),
});

/** JSON view of an attempt. */
export function attemptView(attempt: DeliveryAttempt): z.input<typeof attemptSchema> {
  return {
    id: attempt.id,
    eventId: attempt.eventId,
    eventType: attempt.eventType,
    partitionKey: attempt.partitionKey ?? null,
    kind: attempt.kind,
    outcome: attempt.outcome,
    status: attempt.status ?? null,
    latencyMs: Math.round(attempt.latencyMs * 100) / 100,
    excerpt: attempt.excerpt,
    error: attempt.error ?? null,
    at: iso(attempt.at),
  };
}
