import type { CloudEvent } from '../events/cloud-event.ts';
import { createEvent } from '../events/create-event.ts';
import { versionOf } from '../events/data-schema.ts';
import type { EventDefinition } from '../events/define-event.ts';
import { fromRecord, toRecord } from '../events/kafka-binding.ts';
import { upcastData } from '../events/upcast.ts';
import { defaultLogger } from '../observability/logger.ts';
import type {
  Consumer,
  OffsetCommit,
  OutgoingRecord,
  StoredRecord,
  TopicConfig,
  TopicPartition,
} from '../transport/transport.ts';
import { abortableSleep } from './abortable-sleep.ts';
import { type FailureInfo, failureOf, withFailure } from './dead-letter/failure-headers.ts';
import { deadLetterTopic, retryTopic } from './dead-letter/topic-names.ts';
import { type CircuitBreakerState, circuitBreaker } from './middleware/circuit-breaker.ts';
import { correlation } from './middleware/correlation.ts';
import { dedupe } from './middleware/dedupe.ts';
import { metrics as metricsMiddleware } from './middleware/metrics.ts';
import { compose, type HandlerFunction, type Middleware } from './middleware/middleware.ts';
import { isRetryableByDefault, retry } from './middleware/retry.ts';
import { timeout } from './middleware/timeout.ts';
import { tracing } from './middleware/tracing.ts';
import { checkEventData, validation } from './middleware/validation.ts';
import { createPartitionProgress, type PartitionProgress } from './partition-progress.ts';
import { partitionForKey } from './partitioner.ts';
import { CircuitBreakerStateChanged, SystemTopic } from './system-events.ts';
import type { HandlerContext, HandlerOptions, Router, RouterHealth, RouterOptions } from './types.ts';

/** Default most events handled at once. */
export const DEFAULT_CONCURRENCY = 64;
/** Default milliseconds `close` waits for in-flight handlers. */
export const DEFAULT_SHUTDOWN_DEADLINE_MS = 30_000;
/** Default delays of the delayed-retry topics, in milliseconds: 1 s, 10 s, 1 min. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [1_000, 10_000, 60_000];

interface Route {
  definition: EventDefinition;
  name: string;
  run: HandlerFunction;
  breaker: { state(): CircuitBreakerState } | undefined;
  batch?: BatchCollector;
}

interface Pending {
  event: CloudEvent;
  record: StoredRecord;
  previous: FailureInfo | undefined;
  resolve: (handled: boolean) => void;
}

interface BatchCollector {
  add(item: Pending): void;
  flush(): void;
}

const attemptsKey = Symbol('keel.attempts');
type CountedContext = HandlerContext & { [attemptsKey]?: { count: number } };

const tpId = (topic: string, partition: number) => `${topic}\u0000${partition}`;

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,200}$/;

/**
 * Creates a router: it consumes the topics of its handlers' event types in one consumer group, at
 * least once (an offset is committed only after every earlier record of its partition was handled or
 * handed on), in order per partition key and concurrently across keys. Each handler runs through a
 * middleware chain (correlation, tracing, metrics, your middleware, dedupe, validation, immediate
 * retries, circuit breaker, timeout). An event that still fails moves to a delayed-retry topic, so it
 * never blocks its partition, and after the last delay to the group's dead-letter topic.
 */
export function createRouter(options: RouterOptions): Router {
  const { transport, catalog, group, metrics } = options;
  if (!TOPIC_NAME.test(group)) {
    throw new TypeError(
      `router: group "${group}" must be 1-200 letters, digits, '.', '_' or '-' (it names topics)`,
    );
  }
  const logger = (options.logger ?? defaultLogger()).child({ component: 'router', group });
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const commitIntervalMs = options.commitIntervalMs ?? 100;
  const maxBuffered = Math.max(concurrency * 8, 512);
  const shutdownSignals = options.shutdownSignals ?? ['SIGTERM', 'SIGINT'];
  const isRetryable = options.isRetryable ?? isRetryableByDefault;
  const delays = options.delayedRetries ?? DEFAULT_RETRY_DELAYS_MS;
  const retryTopics = new Map(delays.map((delay, tier) => [retryTopic(group, delay), tier]));
  const dlqTopic = deadLetterTopic(group);
  const systemSource = `urn:keel:router:${group}`;

  const routes = new Map<string, Route>();
  const progress = new Map<string, PartitionProgress>();
  const keyChains = new Map<string, Promise<void>>();
  // Records of retry topics wait here, per partition, until due; their partition is paused meanwhile.
  const delayed = new Map<string, { records: StoredRecord[]; timer?: NodeJS.Timeout }>();
  const aborter = new AbortController();
  let consumer: Consumer | undefined;
  let state: 'idle' | 'running' | 'closing' | 'closed' = 'idle';
  let paused = false;
  let loop: Promise<void> | undefined;
  let buffered = 0;
  let running = 0;
  let lastError: RouterHealth['lastError'];
  let lagTimer: NodeJS.Timeout | undefined;
  let topicPartitions = new Map<string, number>();
  const slotWaiters: Array<() => void> = [];
  const drainWaiters: Array<() => void> = [];
  const spaceWaiters: Array<() => void> = [];
  let commitTimer: NodeJS.Timeout | undefined;
  let committing: Promise<void> = Promise.resolve();

  const wake = (waiters: Array<() => void>) => {
    for (const waiter of waiters.splice(0)) waiter();
  };

  const commit = (): Promise<void> => {
    committing = committing.then(async () => {
      if (!consumer) return;
      const offsets: OffsetCommit[] = [];
      for (const tracker of progress.values()) {
        if (tracker.revoked) continue;
        const offset = tracker.takeCommit();
        if (offset !== undefined)
          offsets.push({ topic: tracker.topic, partition: tracker.partition, offset });
      }
      if (offsets.length === 0) return;
      try {
        await consumer.commit(offsets);
      } catch (error) {
        // A refused commit means the partition moved on a rebalance; its new owner redelivers.
        logger.warn({ err: error, offsets: offsets.length }, 'commit refused; records will be redelivered');
      }
    });
    return committing;
  };

  const scheduleCommit = () => {
    commitTimer ??= setTimeout(() => {
      commitTimer = undefined;
      void commit();
    }, commitIntervalMs);
  };

  const acquireSlot = async () => {
    while (running >= concurrency) await new Promise<void>((resolve) => slotWaiters.push(resolve));
    running++;
  };
  const releaseSlot = () => {
    running--;
    slotWaiters.shift()?.();
  };

  /** Appends records Keel itself produces (retries, dead letters), retrying until it works or shutdown. */
  const appendOwn = async (topic: string, record: OutgoingRecord): Promise<boolean> => {
    const partitions = topicPartitions.get(topic) ?? 1;
    const partition = record.key === null ? 0 : partitionForKey(record.key, partitions);
    for (let attempt = 0; !aborter.signal.aborted; attempt++) {
      try {
        await transport.append([{ topic, partition, records: [record] }]);
        return true;
      } catch (error) {
        logger.error(
          { err: error, topic, attempt },
          'cannot append to a retry or dead-letter topic; retrying',
        );
        await abortableSleep(Math.min(5_000, 100 * 2 ** attempt), aborter.signal);
      }
    }
    return false;
  };

  /** Hands a failed event on: to the next delayed-retry topic when it may still succeed, else to the DLQ. */
  const escalate = async (
    record: StoredRecord,
    event: CloudEvent | undefined,
    error: unknown,
    handler: string,
    previous: FailureInfo | undefined,
    attempts: number,
  ): Promise<boolean> => {
    const now = Date.now();
    const failed = error instanceof Error ? error : new Error(String(error));
    const delivery = previous?.delivery ?? 1;
    const info: FailureInfo = {
      errorType: failed.name,
      errorMessage: failed.message,
      errorStack: failed.stack ?? '',
      attempts: (previous?.attempts ?? 0) + attempts,
      handler,
      firstFailureAt: previous?.firstFailureAt ?? now,
      lastFailureAt: now,
      sourceTopic: previous?.sourceTopic ?? record.topic,
      sourcePartition: previous?.sourcePartition ?? record.partition,
      sourceOffset: previous?.sourceOffset ?? record.offset,
    };
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') info.errorCode = code;
    lastError = { message: failed.message, type: failed.name, at: new Date(now).toISOString() };
    const delay = delays[delivery - 1];
    if (event !== undefined && isRetryable(error) && delay !== undefined) {
      info.delivery = delivery + 1;
      info.dueAt = now + delay;
      logger.warn(
        { err: failed, id: event.id, type: event.type, delivery, nextInMs: delay },
        'handler failed; event moved to a delayed-retry topic',
      );
      return appendOwn(retryTopic(group, delay), withFailure(record, info));
    }
    logger.error(
      { err: failed, id: event?.id, type: event?.type, attempts: info.attempts },
      'event dead-lettered',
    );
    metrics?.dlqMessages.inc({ group, type: event?.type ?? 'undecodable', error: failed.name });
    return appendOwn(dlqTopic, withFailure(record, info));
  };

  const contextFor = (record: StoredRecord, route: Route, delivery: number): CountedContext => ({
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    group,
    handler: route.name,
    attempt: 1,
    delivery,
    signal: aborter.signal,
    [attemptsKey]: { count: 0 },
  });

  const runOne = async (route: Route, item: Pending, tracker: PartitionProgress): Promise<boolean> => {
    if (tracker.revoked || aborter.signal.aborted) return false;
    const context = contextFor(item.record, route, item.previous?.delivery ?? 1);
    await acquireSlot();
    try {
      await route.run(item.event, context);
      return true;
    } catch (error) {
      // Shutdown interrupted the work: leave the record uncommitted for the next member.
      if (aborter.signal.aborted || tracker.revoked) return false;
      return escalate(
        item.record,
        item.event,
        error,
        route.name,
        item.previous,
        context[attemptsKey]!.count || 1,
      );
    } finally {
      releaseSlot();
    }
  };

  const processRecord = async (record: StoredRecord, tracker: PartitionProgress): Promise<boolean> => {
    const previous = retryTopics.has(record.topic) ? failureOf(record) : undefined;
    let event: CloudEvent;
    try {
      event = fromRecord(record);
    } catch (error) {
      metrics?.eventConsumed.inc({ group, type: 'undecodable', outcome: 'undecodable' });
      return escalate(record, undefined, error, `${group}:undecodable`, previous, 0);
    }
    const route = routes.get(event.type);
    if (!route) return true;
    const version = versionOf(event);
    if (version !== undefined && version < route.definition.version) {
      try {
        event = { ...event, data: upcastData(route.definition, version, event.data) };
      } catch (error) {
        return escalate(record, event, error, route.name, previous, 0);
      }
    }
    if (route.batch) {
      const batch = route.batch;
      if (options.validate !== false) {
        try {
          event = checkEventData(route.definition, event);
        } catch (error) {
          return escalate(record, event, error, route.name, previous, 0);
        }
      }
      const item = event;
      return new Promise<boolean>((resolve) => batch.add({ event: item, record, previous, resolve }));
    }
    return runOne(route, { event, record, previous, resolve: () => {} }, tracker);
  };

  const trackerOf = (record: StoredRecord) => {
    const id = tpId(record.topic, record.partition);
    let tracker = progress.get(id);
    if (!tracker) {
      tracker = createPartitionProgress(record.topic, record.partition);
      progress.set(id, tracker);
    }
    return tracker;
  };

  const dispatch = (record: StoredRecord) => {
    const owner = trackerOf(record);
    owner.started(record.offset);
    buffered++;
    // Keyless records have no order to keep; keyed ones wait for the previous record of their key.
    const key =
      record.key === null ? undefined : `${tpId(record.topic, record.partition)}\u0000${record.key}`;
    const previous = key === undefined ? undefined : keyChains.get(key);
    const run = async () => {
      const handled = await processRecord(record, owner);
      buffered--;
      wake(spaceWaiters);
      if (handled) {
        owner.finished(record.offset);
        scheduleCommit();
      }
      if (buffered === 0) wake(drainWaiters);
    };
    const done = (previous ? previous.then(run) : run()).catch((error: unknown) => {
      logger.error({ err: error }, 'router dispatch failed');
    });
    if (key !== undefined) {
      keyChains.set(key, done);
      void done.then(() => {
        if (keyChains.get(key) === done) keyChains.delete(key);
      });
    }
  };

  /** Dispatches the due records at the head of a retry partition; pauses it until the next one is due. */
  const releaseDue = (id: string, member: Consumer) => {
    const queue = delayed.get(id);
    if (!queue || state !== 'running') return;
    if (queue.timer) clearTimeout(queue.timer);
    queue.timer = undefined;
    const now = Date.now();
    while (queue.records.length > 0 && (failureOf(queue.records[0]!)?.dueAt ?? 0) <= now) {
      dispatch(queue.records.shift()!);
    }
    const head = queue.records[0];
    const tp = { topic: head?.topic ?? id.split('\u0000')[0]!, partition: Number(id.split('\u0000')[1]) };
    if (head) {
      member.pause([tp]);
      queue.timer = setTimeout(() => releaseDue(id, member), (failureOf(head)?.dueAt ?? now) - now);
    } else {
      delayed.delete(id);
      if (!paused) member.resume([tp]);
    }
  };

  const accept = (record: StoredRecord, member: Consumer) => {
    if (!retryTopics.has(record.topic)) return dispatch(record);
    const id = tpId(record.topic, record.partition);
    const queue = delayed.get(id) ?? { records: [] };
    delayed.set(id, queue);
    queue.records.push(record);
    if (queue.records.length === 1) releaseDue(id, member);
  };

  const pollLoop = async (member: Consumer) => {
    while (state === 'running') {
      while (buffered >= maxBuffered && state === 'running') {
        await new Promise<void>((resolve) => spaceWaiters.push(resolve));
      }
      if (state !== 'running') break;
      let records: StoredRecord[];
      try {
        records = await member.poll(100);
      } catch (error) {
        logger.error({ err: error }, 'poll failed; retrying in 1 s');
        await abortableSleep(1000, aborter.signal);
        continue;
      }
      // Records fetched while closing are left uncommitted: the group's next member gets them.
      if (state !== 'running') break;
      for (const record of records) accept(record, member);
    }
  };

  const waitForDrain = (partitions: (tracker: PartitionProgress) => boolean, deadlineMs: number) =>
    new Promise<boolean>((resolve) => {
      const deadline = Date.now() + deadlineMs;
      const check = () => {
        const busy = [...progress.values()].some((tracker) => partitions(tracker) && tracker.inFlight() > 0);
        if (!busy) return resolve(true);
        if (Date.now() >= deadline) return resolve(false);
        drainWaiters.push(check);
        setTimeout(check, Math.min(50, Math.max(1, deadline - Date.now()))).unref();
      };
      check();
    });

  const onRevoked = async (partitions: readonly TopicPartition[]) => {
    const revoked = new Set(partitions.map((tp) => tpId(tp.topic, tp.partition)));
    for (const id of revoked) {
      const queue = delayed.get(id);
      if (queue?.timer) clearTimeout(queue.timer);
      delayed.delete(id);
    }
    const ofRevoked = (tracker: PartitionProgress) => revoked.has(tpId(tracker.topic, tracker.partition));
    await waitForDrain(ofRevoked, options.sessionTimeoutMs ?? 10_000);
    await commit();
    for (const id of revoked) {
      const tracker = progress.get(id);
      if (tracker) tracker.revoked = true;
      progress.delete(id);
    }
  };

  const onAssigned = async (partitions: readonly TopicPartition[]) => {
    if (paused) consumer?.pause(partitions);
  };

  const publishBreakerChange = (name: string, breakerState: CircuitBreakerState) => {
    const event = createEvent(
      CircuitBreakerStateChanged,
      { name, state: breakerState },
      { source: systemSource },
    );
    transport
      .append([{ topic: SystemTopic.name, partition: 0, records: [toRecord(event, { validated: true })] }])
      .catch((error: unknown) =>
        logger.error({ err: error, breaker: name }, 'cannot record a breaker change'),
      );
  };

  const updateLag = async () => {
    if (!metrics || !consumer) return;
    try {
      for (const lag of await transport.groupLag(group, [...topicPartitions.keys()])) {
        metrics.consumerLag.set(
          { group, topic: lag.topic, partition: String(lag.partition) },
          Number(lag.lag),
        );
      }
    } catch (error) {
      logger.warn({ err: error }, 'cannot read consumer lag');
    }
  };

  const chainFor = (definition: EventDefinition, name: string, handlerOptions: HandlerOptions) => {
    const breakerOptions = handlerOptions.circuitBreaker ?? options.circuitBreaker;
    const breaker =
      breakerOptions === false
        ? undefined
        : circuitBreaker({
            name,
            ...breakerOptions,
            ...(metrics === undefined ? {} : { metrics }),
            logger,
            onStateChange: publishBreakerChange,
          });
    const retryOptions = options.retry;
    const timeoutMs = handlerOptions.timeoutMs ?? options.timeoutMs;
    const chain: Middleware[] = [
      correlation(),
      ...(options.tracing === false
        ? []
        : [tracing({ system: transport.name === 'kafka' ? 'kafka' : 'keel' })]),
      ...(metrics === undefined ? [] : [metricsMiddleware(metrics)]),
      ...(options.middleware ?? []),
      ...(options.inbox === undefined ? [] : [dedupe(options.inbox)]),
      ...(options.validate === false ? [] : [validation(definition)]),
      ...(retryOptions === false ? [] : [retry({ isRetryable, ...retryOptions })]),
      ...(breaker === undefined ? [] : [breaker.middleware]),
      ...(timeoutMs === undefined ? [] : [timeout(timeoutMs)]),
    ];
    return { chain, breaker };
  };

  const counted =
    (handler: HandlerFunction): HandlerFunction =>
    (event, context) => {
      const counter = (context as CountedContext)[attemptsKey];
      if (counter) counter.count = context.attempt;
      return handler(event, context);
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
      const { chain, breaker } = chainFor(definition, name, handlerOptions);
      routes.set(definition.type, {
        definition,
        name,
        breaker,
        run: compose(chain, counted(handler as HandlerFunction)),
      });
      return router;
    },

    onBatch(definition, handler, batchOptions = {}) {
      const name = register(definition, batchOptions);
      const maxEvents = batchOptions.maxEvents ?? 100;
      const maxWaitMs = batchOptions.maxWaitMs ?? 50;
      const { breaker } = chainFor(definition, name, batchOptions);
      let pending: Pending[] = [];
      let timer: NodeJS.Timeout | undefined;
      const collector: BatchCollector = {
        add(item) {
          pending.push(item);
          if (pending.length >= maxEvents) collector.flush();
          else timer ??= setTimeout(() => collector.flush(), maxWaitMs);
        },
        flush() {
          if (timer) clearTimeout(timer);
          timer = undefined;
          const items = pending;
          pending = [];
          if (items.length === 0) return;
          void runBatch(items);
        },
      };
      const runBatch = async (items: Pending[]) => {
        const first = items[0]!;
        const context = contextFor(first.record, route, first.previous?.delivery ?? 1);
        const events = items.map((item) => item.event);
        const policy = compose(
          [
            ...(metrics === undefined ? [] : [metricsMiddleware(metrics)]),
            ...(options.retry === false ? [] : [retry({ isRetryable, ...options.retry })]),
            ...(breaker === undefined ? [] : [breaker.middleware]),
          ],
          counted(async (_event, attemptContext) => handler(events as never, attemptContext)),
        );
        await acquireSlot();
        try {
          await policy(first.event, context);
          for (const item of items) item.resolve(true);
        } catch (error) {
          for (const item of items) {
            if (aborter.signal.aborted) item.resolve(false);
            else
              item.resolve(
                await escalate(
                  item.record,
                  item.event,
                  error,
                  name,
                  item.previous,
                  context[attemptsKey]!.count || 1,
                ),
              );
          }
        } finally {
          releaseSlot();
        }
      };
      const route: Route = { definition, name, breaker, run: async () => {}, batch: collector };
      routes.set(definition.type, route);
      return router;
    },

    async start() {
      if (state !== 'idle') throw new Error(`router "${group}" was already started`);
      if (routes.size === 0)
        throw new Error(`router "${group}": register a handler with on() before start()`);
      const sources = [...new Set([...routes.keys()].map((type) => catalog.route(type).topic))];
      const partitions = Math.max(...sources.map((topic) => topic.partitions));
      const replication = Math.max(...sources.map((topic) => topic.replication));
      const own: TopicConfig[] = [...retryTopics.keys(), dlqTopic].map((name) => ({
        name,
        partitions,
        replication,
      }));
      await transport.ensureTopics([
        ...own,
        { name: SystemTopic.name, partitions: SystemTopic.partitions, replication },
      ]);
      topicPartitions = new Map([
        ...sources.map((topic) => [topic.name, topic.partitions] as const),
        ...own.map((topic) => [topic.name, topic.partitions] as const),
      ]);
      const topics = [...sources.map((topic) => topic.name), ...retryTopics.keys()].sort();
      consumer = transport.consumer({
        group,
        topics,
        startFrom: options.startFrom ?? 'earliest',
        ...(options.sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs: options.sessionTimeoutMs }),
        onPartitionsRevoked: onRevoked,
        onPartitionsAssigned: onAssigned,
      });
      state = 'running';
      for (const signal of shutdownSignals) process.on(signal, onSignal);
      loop = pollLoop(consumer);
      if (metrics) {
        lagTimer = setInterval(() => void updateLag(), options.lagIntervalMs ?? 5_000);
        lagTimer.unref();
      }
      logger.info({ topics, types: [...routes.keys()] }, 'router started');
    },

    pause() {
      paused = true;
      consumer?.pause(consumer.assignment());
    },

    resume() {
      paused = false;
      if (!consumer) return;
      // Retry partitions waiting for a due time stay paused until then.
      consumer.resume(consumer.assignment().filter((tp) => !delayed.has(tpId(tp.topic, tp.partition))));
    },

    health() {
      const breakers = Object.fromEntries(
        [...routes.values()].filter((r) => r.breaker).map((r) => [r.name, r.breaker!.state()]),
      );
      const status =
        state === 'running'
          ? paused
            ? 'paused'
            : Object.values(breakers).includes('open')
              ? 'degraded'
              : 'running'
          : state;
      return {
        status,
        group,
        assignment: consumer?.assignment() ?? [],
        inFlight: buffered,
        waitingForRetry: [...delayed.values()].reduce((sum, queue) => sum + queue.records.length, 0),
        breakers,
        ...(lastError === undefined ? {} : { lastError }),
      };
    },

    async close(deadlineMs = DEFAULT_SHUTDOWN_DEADLINE_MS) {
      if (state === 'closed' || state === 'closing') return;
      const wasRunning = state === 'running';
      state = 'closing';
      for (const signal of shutdownSignals) process.off(signal, onSignal);
      if (lagTimer) clearInterval(lagTimer);
      for (const queue of delayed.values()) if (queue.timer) clearTimeout(queue.timer);
      delayed.clear();
      wake(spaceWaiters);
      await loop;
      for (const route of routes.values()) route.batch?.flush();
      if (wasRunning) {
        const drained = await waitForDrain(() => true, deadlineMs);
        if (!drained) {
          logger.warn({ deadlineMs }, 'handlers still running at the shutdown deadline; aborting them');
          aborter.abort();
        }
        if (commitTimer) clearTimeout(commitTimer);
        commitTimer = undefined;
        await commit();
        await consumer?.close();
      }
      aborter.abort();
      state = 'closed';
      logger.info('router closed');
    },
  };
  return router;
}
