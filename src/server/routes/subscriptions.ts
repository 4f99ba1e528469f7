import { z } from 'zod';
import type { DeliveryManager } from '../../delivery/delivery-manager.ts';
import { subscriptionNameSchema, subscriptionSpecSchema } from '../../delivery/subscription.ts';
import { actorOf } from '../api/actor.ts';
import { RequestInvalidError } from '../api/errors.ts';
import { cursorParam, decodeCursor, encodeCursor, limitParam, pageSchema } from '../api/pagination.ts';
import { type ApiRegistry, defineRoute } from '../api/route.ts';
import {
  attemptSchema,
  attemptView,
  subscriptionSchema,
  subscriptionView,
} from '../delivery/subscription-views.ts';
import type { JobRegistry } from '../jobs/job-registry.ts';
import { jobSchema } from './jobs.ts';

/** What the subscription routes use. */
export interface SubscriptionRoutesOptions {
  delivery: DeliveryManager;
  jobs: JobRegistry;
}

const nameParam = z.strictObject({ name: subscriptionNameSchema.describe('Subscription name.') });
const TAG = 'subscriptions';
const beforeId = z.strictObject({ before: z.int() });

/** Registers the push subscription routes: create, list, get, replace, delete, enable, disable, attempts, replay. */
export function registerSubscriptionRoutes(api: ApiRegistry, options: SubscriptionRoutesOptions): void {
  registerLifecycle(api, options);
  registerStatusAndHistory(api, options);
}

function registerLifecycle(api: ApiRegistry, { delivery }: SubscriptionRoutesOptions): void {
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/subscriptions',
      operationId: 'listSubscriptions',
      summary: 'Every push subscription, by name, with how its delivery is going',
      tag: TAG,
      answer: z.object({ items: z.array(subscriptionSchema) }),
      handler: async () => ({ items: delivery.list().map(subscriptionView) }),
    }),
  );
  api.add(
    defineRoute({
      method: 'POST',
      url: '/v1/subscriptions',
      operationId: 'createSubscription',
      summary: 'Create a push subscription: matching events appended from now on are POSTed to its endpoint',
      description:
        'Each event goes as a CloudEvent over HTTP (binary or structured mode), signed by the Standard ' +
        'Webhooks scheme (`webhook-id` = the event id, `webhook-timestamp`, `webhook-signature`), at least ' +
        'once, in order per partition key. A bad URL, filter (unknown type, CEL that does not parse) or secret ' +
        'is refused with 400 naming the field; nothing is stored.',
      tag: TAG,
      body: subscriptionSpecSchema.extend({ name: subscriptionNameSchema.describe('Unique name.') }),
      answer: subscriptionSchema,
      status: 201,
      problems: [409],
      handler: async ({ body }) => {
        const { name, ...spec } = body;
        return subscriptionView(await delivery.create(name, spec));
      },
    }),
  );
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/subscriptions/:name',
      operationId: 'getSubscription',
      summary: 'One push subscription',
      tag: TAG,
      params: nameParam,
      answer: subscriptionSchema,
      problems: [404],
      handler: async ({ params }) => subscriptionView(delivery.get(params.name)),
    }),
  );
  api.add(
    defineRoute({
      method: 'PUT',
      url: '/v1/subscriptions/:name',
      operationId: 'replaceSubscription',
      summary:
        "Replace a subscription's endpoint, secret, filter, mode or policy (types new to it start from now)",
      tag: TAG,
      params: nameParam,
      body: subscriptionSpecSchema,
      answer: subscriptionSchema,
      problems: [404],
      handler: async ({ params, body }) => subscriptionView(await delivery.replace(params.name, body)),
    }),
  );
  api.add(
    defineRoute({
      method: 'DELETE',
      url: '/v1/subscriptions/:name',
      operationId: 'deleteSubscription',
      summary: 'Stop delivering and forget a subscription and its attempts',
      tag: TAG,
      params: nameParam,
      answer: z.object({ name: z.string(), deleted: z.literal(true) }),
      problems: [404],
      handler: async ({ params }) => {
        await delivery.remove(params.name);
        return { name: params.name, deleted: true as const };
      },
    }),
  );
}

function registerStatusAndHistory(api: ApiRegistry, { delivery, jobs }: SubscriptionRoutesOptions): void {
  api.add(
    defineRoute({
      method: 'POST',
      url: '/v1/subscriptions/:name/disable',
      operationId: 'disableSubscription',
      summary: 'Stop delivering a subscription; enabling it again resumes where it stopped',
      tag: TAG,
      params: nameParam,
      body: z.strictObject({ reason: z.string().trim().min(1).max(500).describe('Why it is disabled.') }),
      answer: subscriptionSchema,
      problems: [404],
      handler: async ({ params, body }) => subscriptionView(await delivery.disable(params.name, body.reason)),
    }),
  );
  api.add(
    defineRoute({
      method: 'POST',
      url: '/v1/subscriptions/:name/enable',
      operationId: 'enableSubscription',
      summary: 'Deliver a disabled subscription again, from where it stopped',
      tag: TAG,
      params: nameParam,
      answer: subscriptionSchema,
      problems: [404],
      handler: async ({ params }) => subscriptionView(await delivery.enable(params.name)),
    }),
  );
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/subscriptions/:name/attempts',
      operationId: 'listDeliveryAttempts',
      summary:
        "A subscription's delivery attempts, newest first: status, latency, the answer's first characters",
      tag: TAG,
      params: nameParam,
      query: z.strictObject({
        eventId: z.string().min(1).optional().describe('Only the attempts at this event.'),
        outcome: z.enum(['delivered', 'failed', 'gone']).optional(),
        limit: limitParam(),
        cursor: cursorParam,
      }),
      answer: pageSchema(attemptSchema),
      problems: [404],
      handler: async ({ params, query }) => {
        const before = query.cursor === undefined ? undefined : decodeCursor(beforeId, query.cursor).before;
        const rows = delivery.attempts(params.name, {
          limit: query.limit + 1,
          ...(query.eventId === undefined ? {} : { eventId: query.eventId }),
          ...(query.outcome === undefined ? {} : { outcome: query.outcome }),
          ...(before === undefined ? {} : { before }),
        });
        const page = rows.slice(0, query.limit);
        const last = page.at(-1);
        const next = rows.length > query.limit && last ? encodeCursor({ before: last.id }) : null;
        return { items: page.map(attemptView), next };
      },
    }),
  );
  api.add(
    defineRoute({
      method: 'POST',
      url: '/v1/subscriptions/:name/replay',
      operationId: 'replaySubscription',
      summary: 'Re-deliver the matching events appended in a time range to the endpoint, as a job',
      description:
        'Events go as they were (same ids), in order per partition key, recorded as `replay` attempts. ' +
        'Counts `delivered` and `failed` (still failing after the policy’s attempts).',
      tag: TAG,
      params: nameParam,
      body: z.strictObject({
        from: z.iso.datetime({ offset: true }).describe('Events appended at or after this time.'),
        to: z.iso.datetime({ offset: true }).describe('Events appended before this time.'),
      }),
      answer: jobSchema,
      status: 202,
      problems: [404],
      handler: async ({ params, body, request }) => {
        delivery.get(params.name);
        const range = { from: Date.parse(body.from), to: Date.parse(body.to) };
        if (range.to <= range.from)
          throw new RequestInvalidError([
            { path: 'body.to', rule: 'after_from', message: 'expected a time after `from`' },
          ]);
        return jobs.start({
          kind: 'subscriptions.replay',
          params: { name: params.name, ...body },
          actor: actorOf(request),
          run: (context) =>
            delivery.replay(params.name, range, {
              signal: context.signal,
              progress: (done, total) => context.progress(done, total),
              count: (name, item) => context.count(name, 1, item),
            }),
        });
      },
    }),
  );
}
