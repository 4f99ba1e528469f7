import type { CloudEvent } from '../events/cloud-event.ts';
import { versionOf } from '../events/data-schema.ts';
import type { EventDefinition } from '../events/define-event.ts';
import { fromRecord } from '../events/kafka-binding.ts';
import { upcastData } from '../events/upcast.ts';
import { defaultLogger } from '../observability/logger.ts';
import type { Consumer, OffsetCommit, StoredRecord, TopicPartition } from '../transport/transport.ts';
import { createPartitionProgress, type PartitionProgress } from './partition-progress.ts';
import type { Handler, Router, RouterOptions } from './types.ts';

/** Default most events handled at once. */
export const DEFAULT_CONCURRENCY = 64;
/** Default milliseconds `close` waits for in-flight handlers. */
export const DEFAULT_SHUTDOWN_DEADLINE_MS = 30_000;

interface Route {
  definition: EventDefinition;
  handler: Handler<never>;
}

const tpId = (topic: string, partition: number) => `${topic}\u0000${partition}`;
/** Waits `ms` milliseconds, or less when the signal aborts; never rejects. */
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * Creates a router: it consumes the topics of its handlers' event types in one consumer group,
 * at least once (an offset is committed only after every earlier record of its partition was
 * handled), in order per partition key and concurrently across keys.
 */
export function createRouter(options: RouterOptions): Router {
  const { transport, catalog, group, metrics } = options;
  const logger = (options.logger ?? defaultLogger()).child({ component: 'router', group });
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const commitIntervalMs = options.commitIntervalMs ?? 100;
  // Records fetched ahead of the handlers: enough to keep every key busy, bounded for memory.
  const maxBuffered = Math.max(concurrency * 8, 512);
  const shutdownSignals = options.shutdownSignals ?? ['SIGTERM', 'SIGINT'];

  const routes = new Map<string, Route>();
  const progress = new Map<string, PartitionProgress>();
  const keyChains = new Map<string, Promise<void>>();
  const aborter = new AbortController();
  let consumer: Consumer | undefined;
  let state: 'idle' | 'running' | 'closing' | 'closed' = 'idle';
  let loop: Promise<void> | undefined;
  let buffered = 0;
  let running = 0;
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

  const handle = async (
    route: Route,
    event: CloudEvent,
    record: StoredRecord,
    tracker: PartitionProgress,
  ) => {
    const context = {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      group,
      signal: aborter.signal,
    };
    for (let attempt = 1; ; attempt++) {
      if (tracker.revoked || aborter.signal.aborted) return false;
      const started = performance.now();
      try {
        await (route.handler as Handler)(event, context);
        metrics?.processingDuration.observe(
          { group, type: event.type },
          (performance.now() - started) / 1000,
        );
        metrics?.eventConsumed.inc({ group, type: event.type, outcome: 'handled' });
        return true;
      } catch (error) {
        metrics?.eventConsumed.inc({ group, type: event.type, outcome: 'failed' });
        // Until the retry middleware lands, a failing event is retried in place: its key waits,
        // other keys go on, and nothing past it in its partition is committed.
        const delay = Math.min(30_000, 100 * 2 ** Math.min(attempt - 1, 9)) * (0.5 + Math.random() / 2);
        logger.error(
          {
            err: error,
            type: event.type,
            id: event.id,
            topic: record.topic,
            partition: record.partition,
            offset: String(record.offset),
            attempt,
          },
          'handler failed; retrying',
        );
        await sleep(delay, aborter.signal);
      }
    }
  };

  const processRecord = async (record: StoredRecord, tracker: PartitionProgress) => {
    let event: CloudEvent;
    try {
      event = fromRecord(record);
    } catch (error) {
      metrics?.eventConsumed.inc({ group, type: 'undecodable', outcome: 'undecodable' });
      logger.error(
        { err: error, topic: record.topic, partition: record.partition, offset: String(record.offset) },
        'record is not a CloudEvent; skipped',
      );
      return true;
    }
    const route = routes.get(event.type);
    if (!route) return true;
    const version = versionOf(event);
    if (version !== undefined && version < route.definition.version) {
      event = { ...event, data: upcastData(route.definition, version, event.data) };
    }
    await acquireSlot();
    try {
      return await handle(route, event, record, tracker);
    } finally {
      releaseSlot();
    }
  };

  const dispatch = (record: StoredRecord) => {
    const id = tpId(record.topic, record.partition);
    let tracker = progress.get(id);
    if (!tracker) {
      tracker = createPartitionProgress(record.topic, record.partition);
      progress.set(id, tracker);
    }
    const owner = tracker;
    owner.started(record.offset);
    buffered++;
    // Keyless records have no order to keep; keyed ones wait for the previous record of their key.
    const key = record.key === null ? undefined : `${id}\u0000${record.key}`;
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
        await sleep(1000, aborter.signal);
        continue;
      }
      // Records fetched while closing are left uncommitted: the group's next member gets them.
      if (state !== 'running') break;
      for (const record of records) dispatch(record);
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
    const ofRevoked = (tracker: PartitionProgress) => revoked.has(tpId(tracker.topic, tracker.partition));
    await waitForDrain(ofRevoked, options.sessionTimeoutMs ?? 10_000);
    await commit();
    for (const id of revoked) {
      const tracker = progress.get(id);
      if (tracker) tracker.revoked = true;
      progress.delete(id);
    }
  };

  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'shutting down');
    void router.close().then(() => {
      if (process.listenerCount(signal) === 0) process.exit(0);
    });
  };

  const router: Router = {
    on(definition, handler) {
      if (state !== 'idle') throw new Error(`router "${group}": handlers must be registered before start()`);
      if (routes.has(definition.type)) {
        throw new Error(`router "${group}": a handler for "${definition.type}" is already registered`);
      }
      catalog.route(definition.type);
      routes.set(definition.type, { definition, handler: handler as Handler<never> });
      return router;
    },

    async start() {
      if (state !== 'idle') throw new Error(`router "${group}" was already started`);
      if (routes.size === 0)
        throw new Error(`router "${group}": register a handler with on() before start()`);
      const topics = [...new Set([...routes.keys()].map((type) => catalog.route(type).topic.name))].sort();
      consumer = transport.consumer({
        group,
        topics,
        startFrom: options.startFrom ?? 'earliest',
        ...(options.sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs: options.sessionTimeoutMs }),
        onPartitionsRevoked: onRevoked,
      });
      state = 'running';
      for (const signal of shutdownSignals) process.on(signal, onSignal);
      loop = pollLoop(consumer);
      logger.info({ topics, types: [...routes.keys()] }, 'router started');
    },

    async close(deadlineMs = DEFAULT_SHUTDOWN_DEADLINE_MS) {
      if (state === 'closed' || state === 'closing') return;
      const wasRunning = state === 'running';
      state = 'closing';
      for (const signal of shutdownSignals) process.off(signal, onSignal);
      wake(spaceWaiters);
      await loop;
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
