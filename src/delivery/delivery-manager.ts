import type { Logger } from 'pino';
import { z } from 'zod';
import type { Router } from '../bus/router-port.ts';
import { parseOptions } from '../errors/options.ts';
import type { Catalog } from '../events/catalog.ts';
import type { KeelMetrics } from '../observability/metrics.ts';
import type { GroupAdmin } from '../transport/group-admin.ts';
import type { Transport } from '../transport/transport.ts';
import type { AttemptQuery, DeliveryAttempt, DeliveryStore } from './delivery-store.ts';
import { createEndpointBreakers, type EndpointBreakers, type EndpointState } from './endpoint-breakers.ts';
import { SubscriptionExistsError, SubscriptionInvalidError, SubscriptionNotFoundError } from './errors.ts';
import { createRateLimits } from './rate-limits.ts';
import { type ReplayProgress, type ReplayRange, replayRange } from './replay.ts';
import {
  type Subscription,
  type SubscriptionSpec,
  subscriptionGroup,
  subscriptionNameSchema,
  subscriptionSpecSchema,
} from './subscription.ts';
import {
  createSubscriptionRouter,
  type RunnerHealth,
  STOP_DEADLINE_MS,
  topicsOf,
} from './subscription-runner.ts';

/** A subscription with how its delivery is going now. */
export interface SubscriptionState extends Subscription {
  /** The router's health while active, or undefined when disabled. */
  running: RunnerHealth | undefined;
  /** The endpoint breaker's state. */
  endpoint: EndpointState;
}

/** Push subscriptions: stored, each delivered by its own consumer group. */
export interface DeliveryManager {
  /** Starts delivering every active subscription. */
  start(): Promise<void>;
  list(): SubscriptionState[];
  /** Throws SubscriptionNotFoundError when unknown. */
  get(name: string): SubscriptionState;
  /**
   * Validates and stores a subscription and starts delivering the events appended from now on. Throws
   * SubscriptionInvalidError (nothing stored) or SubscriptionExistsError.
   */
  create(name: string, spec: unknown): Promise<SubscriptionState>;
  /** Replaces a subscription's spec (new types start from now); status and history stay. */
  replace(name: string, spec: unknown): Promise<SubscriptionState>;
  /** Stops delivering and forgets the subscription and its attempts. */
  remove(name: string): Promise<void>;
  /** Stops delivering (offsets stay: enabling again resumes where it stopped). */
  disable(name: string, reason: string): Promise<SubscriptionState>;
  enable(name: string): Promise<SubscriptionState>;
  /** Attempts of a subscription, newest first. */
  attempts(name: string, query: AttemptQuery): DeliveryAttempt[];
  /** Re-delivers a range of events to the subscription's endpoint (see `replayRange`). */
  replay(name: string, range: ReplayRange, report: ReplayProgress): Promise<void>;
  /** Stops every subscription's router (in-flight deliveries get a few seconds) and writes queued attempts. */
  close(): Promise<void>;
}

/** Delivery settings of the node. */
const deliveryOptionsSchema = z.object({
  /** Consecutive failed requests that open an endpoint's breaker. */
  breakerFailureThreshold: z.int().min(1).default(5),
  /** Milliseconds an open endpoint breaker waits before a trial request. */
  breakerHalfOpenAfterMs: z.int().min(10).default(5_000),
  /** Milliseconds attempts are kept. */
  attemptRetentionMs: z
    .int()
    .min(60_000)
    .default(7 * 24 * 3_600_000),
});

/** What the delivery manager is built from. */
export interface DeliveryManagerOptions extends Partial<z.input<typeof deliveryOptionsSchema>> {
  transport: Transport;
  groupAdmin: GroupAdmin;
  catalog: Catalog;
  store: DeliveryStore;
  logger: Logger;
  metrics?: KeelMetrics;
}

/** Parses a spec, naming every broken field; the types must be in the catalog. */
function parseSpec(name: string, spec: unknown, catalog: Catalog): SubscriptionSpec {
  const issues: { path: string; message: string }[] = [];
  const named = subscriptionNameSchema.safeParse(name);
  if (!named.success) issues.push({ path: 'name', message: named.error.issues[0]?.message ?? 'invalid' });
  const parsed = subscriptionSpecSchema.safeParse(spec);
  if (!parsed.success)
    for (const issue of parsed.error.issues)
      issues.push({ path: issue.path.map(String).join('.'), message: issue.message });
  parsed.data?.filter.types?.forEach((type, index) => {
    if (
      catalog.event(type) === undefined ||
      !catalog.topics.some((t) => t.events.some((e) => e.type === type))
    )
      issues.push({
        path: `filter.types.${index}`,
        message: `"${type}" is not an event type on a topic of the catalog`,
      });
  });
  if (issues.length > 0 || parsed.data === undefined) throw new SubscriptionInvalidError(issues);
  return parsed.data;
}

/** A new group (or a topic new to it) starts at the end of each topic: it receives events from now on. */
async function startGroupAtEnd(
  { transport, groupAdmin }: Pick<DeliveryManagerOptions, 'transport' | 'groupAdmin'>,
  group: string,
  topics: readonly string[],
): Promise<void> {
  const commits = [];
  for (const topic of topics)
    for (const p of await transport.offsets(topic))
      commits.push({ topic, partition: p.partition, offset: p.latest });
  if (commits.length > 0) await groupAdmin.commitOffsets(group, commits);
}

/** A subscription with its router's health and its endpoint breaker's state. */
function stateWith(
  subscription: Subscription,
  router: Router | undefined,
  breakers: EndpointBreakers,
): SubscriptionState {
  const health = router?.health();
  const endpoint = breakers.states()[new URL(subscription.url).origin] ?? 'closed';
  const running = health && {
    status: health.status,
    inFlight: health.inFlight,
    waitingForRetry: health.waitingForRetry,
    ...(health.lastError ? { lastError: health.lastError } : {}),
  };
  return { ...subscription, running, endpoint };
}

/**
 * Creates the delivery manager: subscriptions stored in SQLite, each delivered by a Router in its own
 * consumer group (`keel.delivery.<name>`), so a slow or down endpoint holds only its own subscription;
 * breakers are per endpoint. Changes to subscriptions run one at a time.
 */
export function createDeliveryManager(options: DeliveryManagerOptions): DeliveryManager {
  const settings = parseOptions(deliveryOptionsSchema, options, 'delivery');
  const { transport, catalog, store } = options;
  const logger = options.logger.child({ component: 'delivery' });
  const breakers: EndpointBreakers = createEndpointBreakers(
    { failureThreshold: settings.breakerFailureThreshold, halfOpenAfterMs: settings.breakerHalfOpenAfterMs },
    logger,
  );
  const limits = createRateLimits();
  const routers = new Map<string, Router>();
  let changes: Promise<unknown> = Promise.resolve();
  let pruneTimer: NodeJS.Timeout | undefined;
  // Changes run one after another, so a 410 arriving during a replace or a delete cannot interleave with it.
  const serially = <T>(change: () => Promise<T>): Promise<T> => {
    const next = changes.then(change, change);
    changes = next.catch(() => {});
    return next;
  };

  const stateOf = (subscription: Subscription) =>
    stateWith(subscription, routers.get(subscription.name), breakers);
  const mustGet = (name: string) => {
    const found = store.get(name);
    if (found === undefined) throw new SubscriptionNotFoundError(name);
    return found;
  };
  const onGone = (name: string) => {
    void serially(async () => {
      const current = store.get(name);
      if (current?.status !== 'active') return;
      store.setStatus(
        name,
        'disabled',
        `the endpoint answered 410 Gone at ${new Date().toISOString()}`,
        Date.now(),
      );
      logger.warn(
        { subscription: name, url: current.url },
        'endpoint answered 410 Gone: subscription disabled',
      );
      await stop(name);
    }).catch((error: unknown) =>
      logger.error({ err: error, subscription: name }, 'disabling after 410 failed'),
    );
  };
  const run = async (subscription: Subscription) => {
    const router = createSubscriptionRouter(subscription, {
      transport,
      catalog,
      store,
      breakers,
      limits,
      logger,
      metrics: options.metrics,
      onGone,
    });
    await router.start();
    routers.set(subscription.name, router);
  };
  const stop = async (name: string) => {
    const router = routers.get(name);
    routers.delete(name);
    await router?.close(STOP_DEADLINE_MS);
  };
  return {
    async start() {
      for (const subscription of store.list()) if (subscription.status === 'active') await run(subscription);
      pruneTimer = setInterval(() => {
        try {
          store.pruneAttempts(Date.now() - settings.attemptRetentionMs);
        } catch (error) {
          logger.warn({ err: error }, 'pruning delivery attempts failed');
        }
      }, 60_000);
      pruneTimer.unref();
      logger.info({ subscriptions: routers.size }, 'delivery started');
    },
    list: () => store.list().map(stateOf),
    get: (name) => stateOf(mustGet(name)),
    create: (name, input) =>
      serially(async () => {
        const spec = parseSpec(name, input, catalog);
        if (store.get(name) !== undefined) throw new SubscriptionExistsError(name);
        const probe = { filter: spec.filter };
        await startGroupAtEnd(options, subscriptionGroup(name), topicsOf(probe, catalog));
        if (!store.insert(name, spec, Date.now())) throw new SubscriptionExistsError(name);
        const created = mustGet(name);
        await run(created);
        return stateOf(created);
      }),
    replace: (name, input) =>
      serially(async () => {
        const spec = parseSpec(name, input, catalog);
        const before = mustGet(name);
        await stop(name);
        const old = new Set(topicsOf(before, catalog));
        await startGroupAtEnd(
          options,
          before.group,
          topicsOf({ filter: spec.filter }, catalog).filter((t) => !old.has(t)),
        );
        store.replace(name, spec, Date.now());
        const after = mustGet(name);
        if (after.status === 'active') await run(after);
        return stateOf(after);
      }),
    remove: (name) =>
      serially(async () => {
        mustGet(name);
        await stop(name);
        store.remove(name);
        limits.forget(name);
      }),
    disable: (name, reason) =>
      serially(async () => {
        mustGet(name);
        await stop(name);
        store.setStatus(name, 'disabled', reason, Date.now());
        return stateOf(mustGet(name));
      }),
    enable: (name) =>
      serially(async () => {
        const current = mustGet(name);
        if (current.status !== 'active') {
          store.setStatus(name, 'active', undefined, Date.now());
          await run(mustGet(name));
        }
        return stateOf(mustGet(name));
      }),
    attempts(name, query) {
      mustGet(name);
      return store.attempts(name, query);
    },
    replay: (name, range, report) =>
      replayRange(mustGet(name), range, { transport, catalog, store, breakers, limits }, report),
    async close() {
      if (pruneTimer !== undefined) clearInterval(pruneTimer);
      await serially(async () => {
        await Promise.all([...routers.keys()].map((name) => stop(name)));
      });
      store.flush();
    },
  };
}
