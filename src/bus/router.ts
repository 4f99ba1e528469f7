import { parseOptions } from '../errors/options.ts';
import type { EventDefinition } from '../events/define-event.ts';
import { defaultLogger } from '../observability/logger.ts';
import type { Consumer, TopicPartition } from '../transport/transport.ts';
import { callWithBatch, createBatchRoute } from './consuming/batch-route.ts';
import { breakerChangeRecorder } from './consuming/breaker-events.ts';
import { createCommitLoop } from './consuming/commit-loop.ts';
import { startLagUpdates } from './consuming/consumer-lag.ts';
import { createDelayedRetries } from './consuming/delayed-retries.ts';
import { handlerChain } from './consuming/handler-chain.ts';
import { createInbound } from './consuming/inbound.ts';
import { createKeyOrderedDispatch } from './consuming/key-ordered-dispatch.ts';
import { partitionId } from './consuming/partition-id.ts';
import { pollLoop } from './consuming/poll-loop.ts';
import { createSingleRoute, type Route, type RouteDeps } from './consuming/route.ts';
import {
  batchOptionsSchema,
  DEFAULT_SHUTDOWN_DEADLINE_MS,
  parseRouterOptions,
} from './consuming/router-options.ts';
import { ensureRouterTopics } from './consuming/router-topics.ts';
import { createSlots } from './consuming/slots.ts';
import { createEscalation } from './dead-letter/escalate.ts';
import { deadLetterTopic, retryTopic } from './dead-letter/topic-names.ts';
import { compose, type HandlerFunction } from './middleware/middleware.ts';
import type { HandlerOptions, Router, RouterHealth, RouterOptions } from './types.ts';

export {
  DEFAULT_CONCURRENCY,
  DEFAULT_RETRY_DELAYS_MS,
  DEFAULT_SHUTDOWN_DEADLINE_MS,
} from './consuming/router-options.ts';

/**
 * Creates a router: it consumes the topics of its handlers' event types in one consumer group, at
 * least once (an offset is committed only after every earlier record of its partition was handled or
 * handed on), in order per partition key and concurrently across keys. Each handler runs through a
 * middleware chain (correlation, tracing, metrics, your middleware, dedupe, validation, immediate
 * retries, circuit breaker, timeout); a batch handler through the same chain, once per batch. An event
 * that still fails moves to a delayed-retry topic, so it never blocks its partition, and after the last
 * delay to the group's dead-letter topic. The pieces, in data order: `consuming/poll-loop.ts`,
 * `consuming/delayed-retries.ts`, `consuming/key-ordered-dispatch.ts`, `consuming/inbound.ts`, the
 * routes (`consuming/route.ts`, `consuming/batch-route.ts`), `dead-letter/escalate.ts`,
 * `consuming/commit-loop.ts`.
 */
export function createRouter(options: RouterOptions): Router {
  const settings = parseRouterOptions(options);
  const { transport, catalog, group, metrics } = settings;
  const logger = (settings.logger ?? defaultLogger()).child({ component: 'router', group });
  const retryTopics = [...new Set(settings.delayedRetries.map((delay) => retryTopic(group, delay)))];
  const routes = new Map<string, Route>();
  const aborter = new AbortController();
  let consumer: Consumer | undefined;
  let state: 'idle' | 'running' | 'closing' | 'closed' = 'idle';
  let paused = false;
  let loop: Promise<void> | undefined;
  let stopLagUpdates = () => {};
  let partitions = new Map<string, number>();

  const escalation = createEscalation({
    ...settings,
    delays: settings.delayedRetries,
    partitionsOf: (topic) => partitions.get(topic) ?? 1,
    signal: aborter.signal,
    logger,
  });
  const commits = createCommitLoop({
    consumer: () => consumer,
    intervalMs: settings.commitIntervalMs,
    logger,
  });
  const delayedTopics = new Set(retryTopics);
  const inbound = createInbound({
    ...settings,
    routes,
    escalation,
    isRetryTopic: (t) => delayedTopics.has(t),
  });
  const dispatch = createKeyOrderedDispatch({ handle: inbound, commits, logger });
  const delayed = createDelayedRetries({
    topics: retryTopics,
    dispatch: dispatch.dispatch,
    isRunning: () => state === 'running',
    isPaused: () => paused,
  });
  const deps: RouteDeps = {
    group,
    signal: aborter.signal,
    slots: createSlots(settings.concurrency),
    escalation,
  };
  const onBreakerChange = breakerChangeRecorder(transport, `urn:keel:router:${group}`, logger);
  const chainSettings = { ...settings, logger, onBreakerChange };

  const onRevoked = async (revokedPartitions: readonly TopicPartition[]) => {
    const revoked = new Set(revokedPartitions.map((tp) => partitionId(tp.topic, tp.partition)));
    delayed.drop(revoked);
    await dispatch.waitForDrain(
      (p) => revoked.has(partitionId(p.topic, p.partition)),
      settings.sessionTimeoutMs,
    );
    await commits.commit();
    commits.forget(revoked);
  };

  const register = (definition: EventDefinition, handlerOptions: HandlerOptions) => {
    if (state !== 'idle') throw new Error(`router "${group}": handlers must be registered before start()`);
    if (routes.has(definition.type)) {
      throw new Error(`router "${group}": a handler for "${definition.type}" is already registered`);
    }
    catalog.route(definition.type);
    return handlerOptions.name ?? `${group}:${definition.type}`;
  };

  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'shutting down');
    void router.close().then(() => {
      if (process.listenerCount(signal) === 0) process.exit(0);
    });
  };

  const router: Router = {
    on(definition, handler, handlerOptions = {}) {
      const name = register(definition, handlerOptions);
      const { layers, breaker } = handlerChain(chainSettings, definition, name, handlerOptions, 'single');
      const run = compose(layers, handler as HandlerFunction);
      routes.set(definition.type, createSingleRoute(deps, definition, name, run, breaker));
      return router;
    },

    onBatch(definition, handler, batchOptions = {}) {
      const name = register(definition, batchOptions);
      const batching = parseOptions(batchOptionsSchema, batchOptions, 'onBatch');
      const { layers, breaker } = handlerChain(chainSettings, definition, name, batchOptions, 'batch');
      const run = compose(layers, callWithBatch(handler as never));
      const batchSettings = { ...batching, validate: settings.validate };
      routes.set(definition.type, createBatchRoute(deps, definition, name, run, breaker, batchSettings));
      return router;
    },

    async start() {
      if (state !== 'idle') throw new Error(`router "${group}" was already started`);
      if (routes.size === 0)
        throw new Error(`router "${group}": register a handler with on() before start()`);
      const topics = await ensureRouterTopics(
        transport,
        catalog,
        routes.keys(),
        retryTopics,
        deadLetterTopic(group),
      );
      partitions = topics.partitions;
      consumer = transport.consumer({
        group,
        topics: topics.consumed,
        startFrom: settings.startFrom,
        sessionTimeoutMs: settings.sessionTimeoutMs,
        onPartitionsRevoked: onRevoked,
        onPartitionsAssigned: async (assigned) => {
          if (paused) consumer?.pause(assigned);
        },
      });
      state = 'running';
      for (const signal of settings.shutdownSignals) process.on(signal, onSignal);
      loop = pollLoop(consumer, {
        dispatch,
        delayed,
        maxBuffered: Math.max(settings.concurrency * 8, 512),
        isRunning: () => state === 'running',
        signal: aborter.signal,
        logger,
      });
      if (metrics) {
        const lagOptions = { transport, group, topics: [...partitions.keys()], metrics, logger };
        stopLagUpdates = startLagUpdates({ ...lagOptions, intervalMs: settings.lagIntervalMs });
      }
      logger.info({ topics: topics.consumed, types: [...routes.keys()] }, 'router started');
    },

    pause() {
      paused = true;
      consumer?.pause(consumer.assignment());
    },

    resume() {
      paused = false;
      // Retry partitions waiting for a due time stay paused until then.
      consumer?.resume(consumer.assignment().filter((tp) => !delayed.isWaiting(tp.topic, tp.partition)));
    },

    health: () =>
      healthOf(
        state,
        paused,
        group,
        routes,
        consumer,
        dispatch.buffered(),
        delayed.waiting(),
        escalation.lastError(),
      ),

    async close(deadlineMs = DEFAULT_SHUTDOWN_DEADLINE_MS) {
      if (state === 'closed' || state === 'closing') return;
      const wasRunning = state === 'running';
      state = 'closing';
      for (const signal of settings.shutdownSignals) process.off(signal, onSignal);
      stopLagUpdates();
      delayed.clear();
      dispatch.wakeAll();
      await loop;
      for (const route of routes.values()) route.flush();
      if (wasRunning) {
        if (!(await dispatch.waitForDrain(() => true, deadlineMs))) {
          logger.warn({ deadlineMs }, 'handlers still running at the shutdown deadline; aborting them');
          aborter.abort();
        }
        commits.stop();
        await commits.commit();
        await consumer?.close();
      }
      aborter.abort();
      state = 'closed';
      logger.info('router closed');
    },
  };
  return router;
}

/** What a router reports about itself, from its state and pieces. */
function healthOf(
  state: 'idle' | 'running' | 'closing' | 'closed',
  paused: boolean,
  group: string,
  routes: ReadonlyMap<string, Route>,
  consumer: Consumer | undefined,
  inFlight: number,
  waitingForRetry: number,
  lastError: RouterHealth['lastError'],
): RouterHealth {
  const breakers = Object.fromEntries(
    [...routes.values()].flatMap((route) => (route.breaker ? [[route.name, route.breaker.state()]] : [])),
  );
  const degraded = Object.values(breakers).includes('open');
  const status = state !== 'running' ? state : paused ? 'paused' : degraded ? 'degraded' : 'running';
  return {
    status,
    group,
    assignment: consumer?.assignment() ?? [],
    inFlight,
    waitingForRetry,
    breakers,
    ...(lastError === undefined ? {} : { lastError }),
  };
}
