import type { Logger } from 'pino';
import { defaultLogger } from '../observability/logger.ts';
import type { KeelMetrics } from '../observability/metrics.ts';
import type { Consumer, TopicPartition } from '../transport/transport.ts';
import { breakerChangeRecorder } from './consuming/breaker-events.ts';
import { type CommitLoop, createCommitLoop } from './consuming/commit-loop.ts';
import { startLagUpdates } from './consuming/consumer-lag.ts';
import { createDelayedRetries, type DelayedRetries } from './consuming/delayed-retries.ts';
import { assertMayConsume, scopedBatchHandler, scopedHandler } from './consuming/identity-scope.ts';
import { createInbound } from './consuming/inbound.ts';
import { createKeyOrderedDispatch, type KeyOrderedDispatch } from './consuming/key-ordered-dispatch.ts';
import { createParking, type Parking, sourcePartitionId } from './consuming/parking.ts';
import { discardedLookup, recoverChains } from './consuming/parking-recovery.ts';
import { partitionId } from './consuming/partition-id.ts';
import { pollLoop } from './consuming/poll-loop.ts';
import type { Route } from './consuming/route.ts';
import { createRouteTable, type RouteTable } from './consuming/route-table.ts';
import {
  DEFAULT_SHUTDOWN_DEADLINE_MS,
  parseRouterOptions,
  type RouterSettings,
} from './consuming/router-options.ts';
import { ensureRouterTopics } from './consuming/router-topics.ts';
import { closeOnSignals } from './consuming/shutdown-signals.ts';
import { createSlots } from './consuming/slots.ts';
import { createDeadLetterQueue } from './dead-letter/dead-letter-queue.ts';
import { createEscalation, type Escalation } from './dead-letter/escalate.ts';
import { deadLetterTopic, retryTopic } from './dead-letter/topic-names.ts';
import type { BatchHandler, Handler, Router, RouterHealth, RouterOptions } from './router-port.ts';

export {
  DEFAULT_CONCURRENCY,
  DEFAULT_RETRY_DELAYS_MS,
  DEFAULT_SHUTDOWN_DEADLINE_MS,
} from './consuming/router-options.ts';

type RouterState = 'idle' | 'running' | 'closing' | 'closed';

/** What a router's pieces ask of the router itself. */
interface RouterControl {
  state: () => RouterState;
  paused: () => boolean;
  consumer: () => Consumer | undefined;
  /** Partitions of a topic the router writes to (known once it started). */
  partitionsOf: (topic: string) => number;
  /** Aborted on shutdown past the deadline. */
  signal: AbortSignal;
}

/** The pieces of a router along the data path, wired together. */
interface RouterPieces {
  table: RouteTable;
  escalation: Escalation;
  dispatch: KeyOrderedDispatch;
  delayed: DelayedRetries;
  commits: CommitLoop;
  parking: Parking;
  retryTopics: string[];
  /** Rebuilds the parked keys of partitions just assigned. */
  recover: (assigned: readonly TopicPartition[]) => Promise<void>;
}

/**
 * Wires the data path: poll loop → delayed-retry scheduler (retry topics) → key-ordered dispatch →
 * inbound (decode, route, upcast) → route (handler chain) → escalation on failure, and the commit loop
 * the dispatch reports handled offsets to.
 */
function assemble(settings: RouterSettings, logger: Logger, control: RouterControl): RouterPieces {
  const { group } = settings;
  const delays = settings.delayedRetries;
  const retryTopics = [...new Set(delays.map((delay) => retryTopic(group, delay)))];
  const retrying = new Set(retryTopics);
  const commits = createCommitLoop({
    consumer: control.consumer,
    intervalMs: settings.commitIntervalMs,
    logger,
    signal: control.signal,
  });
  const dlq = createDeadLetterQueue({ transport: settings.transport, group });
  const parking = createParking({
    delays,
    retryTopicOf: (step) => retryTopic(group, delays[step - 1]!),
    dlqTopic: deadLetterTopic(group),
    partitionsOf: control.partitionsOf,
    isRetryTopic: (t) => retrying.has(t),
    orderedHandler: (type) => table.orderedHandler(type),
    onDeadLetter: settings.onDeadLetter,
    move: commits.move,
    discardedInDlq: discardedLookup(dlq),
    logger,
  });
  const escalation = createEscalation({
    ...settings,
    delays,
    partitionsOf: control.partitionsOf,
    move: commits.move,
    listener: parking.listener,
    logger,
  });
  const slots = createSlots(settings.concurrency);
  const table = createRouteTable({
    deps: { group, signal: control.signal, slots, escalation },
    chain: {
      ...settings,
      logger,
      onBreakerChange: breakerChangeRecorder(settings.transport, `urn:keel:router:${group}`, logger),
    },
    checkRouted: (type) => void settings.catalog.route(type),
    isOpen: () => control.state() === 'idle',
    validate: settings.validate,
  });
  const handle = parking.wrap(
    createInbound({
      ...settings,
      routes: table.routes,
      escalation,
      isRetryTopic: (t) => retrying.has(t),
    }),
  );
  const dispatch = createKeyOrderedDispatch({ handle, commits, logger });
  const delayed = createDelayedRetries({
    topics: retryTopics,
    dispatch: dispatch.dispatch,
    isRunning: () => control.state() === 'running',
    isPaused: control.paused,
  });
  const recoveryOptions = { transport: settings.transport, group, retryTopics: retrying, dlq, parking };
  const recover = (assigned: readonly TopicPartition[]) => recoverChains(recoveryOptions, assigned);
  return { table, escalation, dispatch, delayed, commits, parking, retryTopics, recover };
}

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
  const { identity } = options;
  const { transport, catalog, group, metrics } = settings;
  const logger = (settings.logger ?? defaultLogger()).child({ component: 'router', group });
  const aborter = new AbortController();
  let consumer: Consumer | undefined;
  let state: RouterState = 'idle';
  let paused = false;
  let loop: Promise<void> | undefined;
  let stopLagUpdates = () => {};
  let stopParkingGauges = () => {};
  let stopListening = () => {};
  let partitions = new Map<string, number>();
  const { table, escalation, dispatch, delayed, commits, parking, retryTopics, recover } = assemble(
    settings,
    logger,
    {
      state: () => state,
      paused: () => paused,
      consumer: () => consumer,
      partitionsOf: (topic) => partitions.get(topic) ?? 1,
      signal: aborter.signal,
    },
  );
  const { routes } = table;

  const onRevoked = async (revokedPartitions: readonly TopicPartition[]) => {
    const revoked = new Set(revokedPartitions.map((tp) => partitionId(tp.topic, tp.partition)));
    delayed.drop(revoked);
    const ofRevoked = (p: TopicPartition) => revoked.has(partitionId(p.topic, p.partition));
    await dispatch.waitForDrain(ofRevoked, settings.sessionTimeoutMs);
    await commits.commit();
    commits.forget(revoked);
    parking.drop(new Set(revokedPartitions.map((tp) => sourcePartitionId(tp.topic, tp.partition))));
  };

  const router: Router = {
    on(definition, handler, handlerOptions = {}) {
      const scoped = identity ? scopedHandler(identity, handler as Handler<never>) : handler;
      table.addHandler(definition, scoped as Handler<never>, handlerOptions);
      return router;
    },

    onBatch(definition, handler, batchOptions = {}) {
      const scoped = identity ? scopedBatchHandler(identity, handler as BatchHandler<never>) : handler;
      table.addBatchHandler(definition, scoped as BatchHandler<never>, batchOptions);
      return router;
    },

    async start() {
      if (state !== 'idle') throw new Error(`router "${group}" was already started`);
      if (routes.size === 0)
        throw new Error(`router "${group}": register a handler with on() before start()`);
      if (identity) assertMayConsume(identity, catalog, routes.keys());
      const dlq = deadLetterTopic(group);
      const topics = await ensureRouterTopics(transport, catalog, routes.keys(), retryTopics, dlq);
      partitions = topics.partitions;
      consumer = transport.consumer({
        group,
        topics: topics.consumed,
        startFrom: settings.startFrom,
        sessionTimeoutMs: settings.sessionTimeoutMs,
        // A key's source, retry and dead-letter records share a partition number: one member holds its chain.
        coPartitioned: true,
        onPartitionsRevoked: onRevoked,
        onPartitionsAssigned: async (assigned) => {
          // A retry partition paused for a due time under an earlier holding has no waiting queue any more.
          if (paused) consumer?.pause(assigned);
          else consumer?.resume(assigned);
          // Before any record of these partitions is handled: which of their keys wait behind a failed event
          // (anything known of them from an earlier holding, which may have been lost unnoticed, is dropped).
          parking.drop(new Set(assigned.map((tp) => sourcePartitionId(tp.topic, tp.partition))));
          await recover(assigned);
        },
      });
      state = 'running';
      stopListening = closeOnSignals(settings.shutdownSignals, () => router.close(), logger);
      const maxBuffered = Math.max(settings.concurrency * 8, 512);
      const isRunning = () => state === 'running';
      loop = pollLoop(consumer, {
        dispatch,
        delayed,
        maxBuffered,
        isRunning,
        signal: aborter.signal,
        logger,
      });
      if (metrics) {
        const lagOptions = { transport, group, topics: [...partitions.keys()], metrics, logger };
        stopLagUpdates = startLagUpdates({ ...lagOptions, intervalMs: settings.lagIntervalMs });
        stopParkingGauges = startParkingGauges(parking, metrics, group);
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

    health() {
      const { status, breakers } = statusOf(state, paused, routes);
      const lastError = escalation.lastError();
      return {
        status,
        group,
        assignment: consumer?.assignment() ?? [],
        inFlight: dispatch.buffered(),
        waitingForRetry: delayed.waiting(),
        breakers,
        ...(lastError === undefined ? {} : { lastError }),
      };
    },

    async close(deadlineMs = DEFAULT_SHUTDOWN_DEADLINE_MS) {
      if (state === 'closed' || state === 'closing') return;
      const wasRunning = state === 'running';
      state = 'closing';
      stopListening();
      stopLagUpdates();
      stopParkingGauges();
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

/** A router's status and each handler's breaker state: `degraded` while a breaker is open. */
function statusOf(
  state: RouterState,
  paused: boolean,
  routes: ReadonlyMap<string, Route>,
): Pick<RouterHealth, 'status' | 'breakers'> {
  const breakers = Object.fromEntries(
    [...routes.values()].flatMap((route) => (route.breaker ? [[route.name, route.breaker.state()]] : [])),
  );
  const degraded = Object.values(breakers).includes('open');
  const status = state !== 'running' ? state : paused ? 'paused' : degraded ? 'degraded' : 'running';
  return { status, breakers };
}

/** Sets the parking gauges of a group every second (parked keys and events, oldest parked age). */
function startParkingGauges(parking: Parking, metrics: KeelMetrics, group: string): () => void {
  const update = () => {
    const { keys, events, oldestSince } = parking.stats();
    metrics.parkedKeys.set({ group }, keys);
    metrics.parkedEvents.set({ group }, events);
    metrics.parkedOldestAge.set({ group }, oldestSince === undefined ? 0 : (Date.now() - oldestSince) / 1000);
  };
  update();
  const timer = setInterval(update, 1_000);
  timer.unref();
  return () => {
    clearInterval(timer);
    update();
  };
}
