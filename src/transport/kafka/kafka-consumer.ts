import { randomUUID } from 'node:crypto';
import {
  type Broker,
  type ConsumerGroupJoinPayload,
  FetchIsolationLevels,
  type fetchV17,
  Consumer as KafkaClientConsumer,
  ListOffsetTimestamps,
} from '@platformatic/kafka';
import type { Logger } from 'pino';
import { ConsumerBusyError, NotAssignedError, TransportClosedError } from '../errors.ts';
import { runRebalanceCallback } from '../rebalance-callback.ts';
import type { Consumer, ConsumerOptions, OffsetCommit, StoredRecord, TopicPartition } from '../transport.ts';
import { isUnknownTopic, kafkaErrorNames, operationError } from './client-errors.ts';
import type { KafkaClientBaseOptions, ResolvedConsumerDefaults } from './kafka-options.ts';
import { assignPartitions } from './partition-assigner.ts';
import { connectionTo, negotiatedApi } from './raw-api.ts';
import { decodeBatches } from './record-codec.ts';

type FetchRequestTopic = fetchV17.FetchRequestTopic;
type FetchResponse = fetchV17.FetchResponse;

/** What a group member borrows from its transport. */
export interface KafkaConsumerContext {
  base: KafkaClientBaseOptions;
  defaults: ResolvedConsumerDefaults;
  logger: Logger;
  /** The group's coordinator, looked up afresh (the member's own client caches it past a move). */
  findCoordinator(group: string): Promise<Broker>;
  /** Called once the member has closed, so the transport stops tracking it. */
  forget(consumer: KafkaConsumer): void;
}

/** A group member on Kafka; `abandon` is what the transport's `abort` uses. */
export interface KafkaConsumer extends Consumer {
  /** Drops the member like a killed process: sockets closed, no LeaveGroup, the coordinator expires it. */
  abandon(): Promise<void>;
}

interface Holding {
  topic: string;
  partition: number;
  /** Next offset `poll` returns. */
  position: bigint;
  /** Next offset to fetch; records in [position, fetchOffset) wait in `buffer`. */
  fetchOffset: bigint;
  buffer: StoredRecord[];
  /** False until onPartitionsAssigned finished: no records before that. */
  ready: boolean;
  /** Being taken away: no more records are returned from it. */
  revoking: boolean;
}

type State = 'new' | 'joined' | 'closing' | 'closed';

// Errors of an OffsetCommit that mean this member's generation is over: its partitions may be elsewhere.
const FENCED = ['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS', 'FENCED_INSTANCE_ID'];
const COORDINATOR_MOVED = ['NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_LOAD_IN_PROGRESS'];

/**
 * Creates a group member (classic protocol, eager rebalancing). Group membership, heartbeats and the
 * JoinGroup/SyncGroup exchange are the client's; fetching, positions, pause and commits are the adapter's,
 * so that a poll returns exactly what the member holds and a commit is fenced on the generation in which
 * the member got its partitions. `onPartitionsRevoked` runs in the client's hook before every JoinGroup
 * (the eager protocol gives up all partitions before rejoining), so the group cannot finish the rebalance
 * — and hand the partitions to anyone — before the callback returned.
 */
export function createKafkaConsumer(context: KafkaConsumerContext, options: ConsumerOptions): KafkaConsumer {
  const { base, defaults } = context;
  const group = options.group;
  if (typeof group !== 'string' || group.length === 0 || /\s/.test(group)) {
    throw new TypeError('consumer: group must be a non-empty string without spaces');
  }
  if (!Array.isArray(options.topics) || options.topics.length === 0) {
    throw new TypeError('consumer: topics must name at least one topic');
  }
  const topics = [...new Set(options.topics)].sort();
  const startFrom = options.startFrom ?? 'earliest';
  const maxRecords = positiveInteger('maxRecords', options.maxRecords ?? 500);
  const sessionTimeoutMs = positiveInteger('sessionTimeoutMs', options.sessionTimeoutMs ?? 10_000);
  const heartbeatIntervalMs = positiveInteger(
    'heartbeatIntervalMs',
    options.heartbeatIntervalMs ??
      defaults.heartbeatIntervalMs ??
      Math.max(1, Math.min(3_000, Math.floor(sessionTimeoutMs / 3))),
  );
  if (heartbeatIntervalMs >= sessionTimeoutMs) {
    throw new TypeError(
      `consumer: heartbeatIntervalMs (${heartbeatIntervalMs}) must be below sessionTimeoutMs (${sessionTimeoutMs})`,
    );
  }
  const rebalanceTimeoutMs = Math.max(defaults.rebalanceTimeoutMs, sessionTimeoutMs);
  const provisionalId = randomUUID();
  const log = context.logger.child({ group, member: provisionalId });

  const client = new KafkaClientConsumer({
    ...base,
    clientId: `${base.clientId}-${group}`,
    groupId: group,
    sessionTimeout: sessionTimeoutMs,
    heartbeatInterval: heartbeatIntervalMs,
    rebalanceTimeout: rebalanceTimeoutMs,
    autocommit: false,
    maxWaitTime: defaults.fetchMaxWaitMs,
    maxBytesPerPartition: defaults.fetchMaxBytesPerPartition,
    isolationLevel: FetchIsolationLevels.READ_COMMITTED,
    retries: 5,
    retryDelay: 200,
    partitionAssigner: assignPartitions,
    protocolsMetadata: () => beforeJoin(),
  });
  client.topics.trackAll(...topics);

  const holdings = new Map<string, Holding>();
  const paused = new Set<string>();
  const wakers = new Set<() => void>();
  const nodeFetches = new Map<number, Promise<void>>();
  let state: State = 'new';
  let polling: Promise<unknown> | undefined;
  let closing: Promise<void> | undefined;
  let joining: Promise<void> | undefined;
  let needsJoin = true;
  let retryJoinAt = 0;
  let pendingError: unknown;
  let rebalances: Promise<void> = Promise.resolve();
  // Bumped before every JoinGroup: an assignment still being set up for an older generation is dropped.
  let epoch = 0;
  // Generation and member id under which the current holdings were assigned; commits are fenced on them.
  let generation = -1;
  let kafkaMemberId: string | null = null;
  let coordinator: Broker | undefined;
  let fetchRound = 0;
  let kicking = false;

  const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;
  const list = (held: readonly Holding[]): TopicPartition[] =>
    held.map((h) => ({ topic: h.topic, partition: h.partition }));
  const wake = (): void => {
    for (const waker of [...wakers]) waker();
  };
  const serially = (work: () => Promise<void>): Promise<void> => {
    const run = rebalances.then(work, work);
    rebalances = run.catch(() => undefined);
    return run;
  };

  const callback = (name: 'onPartitionsRevoked' | 'onPartitionsAssigned', held: readonly Holding[]) =>
    runRebalanceCallback(options, name, list(held), log, 'kafka');

  // While a revoke callback runs the client sends no heartbeats (it is about to rejoin), so the adapter
  // keeps the session alive itself: the coordinator answers REBALANCE_IN_PROGRESS, which is expected.
  const keepAlive = (): (() => void) => {
    if (kafkaMemberId === null || generation < 0) return () => undefined;
    const member = kafkaMemberId;
    const gen = generation;
    const timer = setInterval(() => {
      void (async () => {
        coordinator ??= await context.findCoordinator(group);
        const broker = coordinator;
        const api = await negotiatedApi<[string, number, string, string | null], unknown>(
          client,
          'Heartbeat',
        );
        await api.async(await connectionTo(client, broker), group, gen, member, null);
      })().catch(() => undefined);
    }, heartbeatIntervalMs);
    return () => clearInterval(timer);
  };

  const revokeAll = async (): Promise<void> => {
    const held = [...holdings.values()];
    if (held.length === 0) return;
    for (const h of held) h.revoking = true;
    wake();
    const stop = keepAlive();
    try {
      await callback('onPartitionsRevoked', held);
    } finally {
      stop();
    }
    for (const h of held) holdings.delete(key(h.topic, h.partition));
    log.debug({ partitions: list(held) }, 'kafka consumer: partitions revoked');
  };

  // The client's hook before each JoinGroup, awaited by it: everything held is given up first.
  async function beforeJoin(): Promise<Buffer> {
    epoch++;
    if (state === 'joined') await serially(revokeAll);
    return Buffer.alloc(0);
  }

  const committedOrStart = async (parts: readonly TopicPartition[]): Promise<Map<string, bigint>> => {
    const byTopic = new Map<string, number[]>();
    for (const p of parts) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
    const committed = await client.listCommittedOffsets({
      topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
    });
    const positions = new Map<string, bigint>();
    const missing = new Map<string, number[]>();
    for (const p of parts) {
      const offset = committed.get(p.topic)?.[p.partition];
      if (offset !== undefined && offset >= 0n) positions.set(key(p.topic, p.partition), offset);
      else missing.set(p.topic, [...(missing.get(p.topic) ?? []), p.partition]);
    }
    if (missing.size > 0) {
      const bounds = await client.listOffsets({
        topics: [...missing.keys()],
        partitions: Object.fromEntries(missing),
        timestamp: startFrom === 'latest' ? ListOffsetTimestamps.LATEST : ListOffsetTimestamps.EARLIEST,
      });
      for (const [topic, partitions] of missing) {
        for (const partition of partitions) {
          positions.set(key(topic, partition), bounds.get(topic)?.[partition] ?? 0n);
        }
      }
    }
    return positions;
  };

  const onJoin = (payload: ConsumerGroupJoinPayload): void => {
    const mine = epoch;
    const gen = payload.generationId ?? client.generationId;
    const member = payload.memberId;
    const parts = (payload.assignments ?? []).flatMap((a) =>
      a.partitions.map((partition) => ({ topic: a.topic, partition })),
    );
    void serially(async () => {
      if (mine !== epoch || state !== 'joined') return;
      // Partitions still held here were not revoked before the join (the client rejoined without our
      // hook, which it does not do today): they are lost, not handed over.
      if (holdings.size > 0) await revokeAll();
      generation = gen;
      kafkaMemberId = member;
      let positions: Map<string, bigint>;
      try {
        positions = parts.length === 0 ? new Map() : await committedOrStart(parts);
      } catch (error) {
        if (mine !== epoch) return;
        // Without positions the member cannot consume: leave the generation and let the next poll rejoin.
        pendingError = operationError('fetch committed offsets', error);
        needsJoin = true;
        wake();
        return;
      }
      if (mine !== epoch || state !== 'joined') return;
      const acquired: Holding[] = parts.map((p) => {
        const position = positions.get(key(p.topic, p.partition)) ?? 0n;
        return { ...p, position, fetchOffset: position, buffer: [], ready: false, revoking: false };
      });
      for (const h of acquired) holdings.set(key(h.topic, h.partition), h);
      log.debug({ generation: gen, partitions: list(acquired) }, 'kafka consumer: partitions assigned');
      await callback('onPartitionsAssigned', acquired);
      for (const h of acquired) h.ready = true;
      wake();
    });
  };
  client.on('consumer:group:join', onJoin);
  // Emitted when the client's own rejoin (after a heartbeat saw a rebalance) failed for good.
  client.on('error', (error: unknown) => {
    if (state !== 'joined') return;
    log.warn({ err: error }, 'kafka consumer: rejoining the group failed; the next poll retries');
    needsJoin = true;
    retryJoinAt = Date.now() + 500;
    wake();
  });

  const join = (): void => {
    if (joining !== undefined || Date.now() < retryJoinAt) return;
    needsJoin = false;
    joining = client
      .joinGroup({})
      .then(
        () => undefined,
        (error: unknown) => {
          if (state !== 'joined') return;
          needsJoin = true;
          retryJoinAt = Date.now() + 1_000;
          if (isUnknownTopic(error)) {
            // Like Kafka's Java consumer, a member of a topic that does not exist yet waits for it.
            log.warn({ topics }, 'kafka consumer: a subscribed topic does not exist yet; retrying');
            return;
          }
          pendingError = operationError('join group', error);
        },
      )
      .finally(() => {
        joining = undefined;
        wake();
      });
  };

  const fetchFrom = async (node: number, parts: readonly Holding[], topicIds: Map<string, string>) => {
    const requested = new Map<string, { holding: Holding; offset: bigint }>();
    const byTopic = new Map<string, FetchRequestTopic>();
    for (const h of parts) {
      const topicId = topicIds.get(h.topic)!;
      const request = byTopic.get(topicId) ?? { topicId, partitions: [] };
      request.partitions.push({
        partition: h.partition,
        fetchOffset: h.fetchOffset,
        currentLeaderEpoch: -1,
        lastFetchedEpoch: -1,
        partitionMaxBytes: defaults.fetchMaxBytesPerPartition,
      });
      byTopic.set(topicId, request);
      requested.set(key(h.topic, h.partition), { holding: h, offset: h.fetchOffset });
    }
    const names = new Map([...topicIds].map(([name, id]) => [id, name]));
    let response: FetchResponse;
    try {
      response = await client.fetch({
        node,
        topics: [...byTopic.values()],
        maxWaitTime: defaults.fetchMaxWaitMs,
        minBytes: 1,
      });
    } catch (error) {
      if (state !== 'joined') return;
      const partial = (error as { response?: FetchResponse }).response;
      if (partial !== undefined && kafkaErrorNames(error).includes('OFFSET_OUT_OF_RANGE')) {
        resetOutOfRange(partial, names, requested);
        return;
      }
      log.warn({ err: error, node }, 'kafka consumer: fetch failed; retrying');
      await sleep(200);
      return;
    }
    if (state !== 'joined') return;
    for (const topicResponse of response.responses) {
      const topic = names.get(topicResponse.topicId) ?? topicResponse.topicId;
      for (const partitionResponse of topicResponse.partitions) {
        const asked = requested.get(key(topic, partitionResponse.partitionIndex));
        // A partition revoked, or re-positioned, while the fetch was in flight: its data is stale.
        if (asked === undefined || holdings.get(key(topic, asked.holding.partition)) !== asked.holding)
          continue;
        if (asked.holding.fetchOffset !== asked.offset) continue;
        const decoded = decodeBatches(
          topic,
          asked.holding.partition,
          partitionResponse.records ?? [],
          asked.offset,
          Number.POSITIVE_INFINITY,
          partitionResponse.abortedTransactions,
        );
        asked.holding.buffer.push(...decoded.records);
        if (decoded.nextOffset !== undefined) asked.holding.fetchOffset = decoded.nextOffset;
      }
    }
  };

  // A position outside the log (retention moved its start, or the log was truncated) restarts where
  // `startFrom` says, as Kafka's `auto.offset.reset` does.
  const resetOutOfRange = (
    response: FetchResponse,
    names: Map<string, string>,
    requested: Map<string, { holding: Holding; offset: bigint }>,
  ): void => {
    for (const topicResponse of response.responses) {
      const topic = names.get(topicResponse.topicId) ?? topicResponse.topicId;
      for (const p of topicResponse.partitions) {
        // 1 is OFFSET_OUT_OF_RANGE; other partitions of the response are simply fetched again.
        if (p.errorCode !== 1) continue;
        const asked = requested.get(key(topic, p.partitionIndex));
        if (asked === undefined || holdings.get(key(topic, p.partitionIndex)) !== asked.holding) continue;
        const reset = startFrom === 'latest' ? p.highWatermark : p.logStartOffset;
        if (reset < 0n) continue;
        log.warn(
          { topic, partition: p.partitionIndex, from: asked.offset, to: reset },
          'kafka consumer: position out of range; reset',
        );
        asked.holding.position = reset;
        asked.holding.fetchOffset = reset;
        asked.holding.buffer = [];
      }
    }
  };

  const fetchable = (h: Holding): boolean =>
    h.ready && !h.revoking && h.buffer.length === 0 && !paused.has(key(h.topic, h.partition));

  // Starts one fetch per leader that has fetchable partitions and no fetch in flight.
  const kick = async (): Promise<void> => {
    if (kicking || state !== 'joined') return;
    const candidates = [...holdings.values()].filter(fetchable);
    if (candidates.length === 0) return;
    kicking = true;
    try {
      const metadata = await client.metadata({ topics });
      const topicIds = new Map<string, string>();
      const byNode = new Map<number, Holding[]>();
      for (const h of candidates) {
        if (!fetchable(h)) continue;
        const topicMetadata = metadata.topics.get(h.topic);
        const leader = topicMetadata?.partitions[h.partition]?.leader;
        if (topicMetadata === undefined || leader === undefined || leader < 0 || nodeFetches.has(leader))
          continue;
        topicIds.set(h.topic, topicMetadata.id);
        byNode.set(leader, [...(byNode.get(leader) ?? []), h]);
      }
      for (const [node, parts] of byNode) {
        const fetching = fetchFrom(node, parts, topicIds).finally(() => {
          nodeFetches.delete(node);
          wake();
        });
        nodeFetches.set(node, fetching);
      }
    } catch (error) {
      log.warn({ err: error }, 'kafka consumer: metadata lookup failed; retrying');
      client.clearMetadata();
    } finally {
      kicking = false;
    }
  };

  const drain = (): StoredRecord[] => {
    const active = [...holdings.values()].filter(
      (h) => h.ready && !h.revoking && h.buffer.length > 0 && !paused.has(key(h.topic, h.partition)),
    );
    if (active.length === 0) return [];
    const out: StoredRecord[] = [];
    // Rotate the first partition and cap each one's share so a busy partition cannot starve the rest.
    const start = fetchRound++ % active.length;
    const share = Math.max(1, Math.ceil(maxRecords / active.length));
    const take = (h: Holding, limit: number): void => {
      const taken = h.buffer.splice(0, limit);
      out.push(...taken);
      const last = taken.at(-1);
      if (last !== undefined) h.position = last.offset + 1n;
    };
    for (let i = 0; i < active.length && out.length < maxRecords; i++) {
      take(active[(start + i) % active.length]!, Math.min(share, maxRecords - out.length));
    }
    for (const h of active) {
      if (out.length >= maxRecords) break;
      take(h, maxRecords - out.length);
    }
    return out;
  };

  const waitForChange = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      wakers.add(done);
    });

  const pollLoop = async (maxWaitMs: number): Promise<StoredRecord[]> => {
    if (state === 'new') state = 'joined';
    const deadline = performance.now() + Math.max(0, maxWaitMs);
    for (;;) {
      if (state !== 'joined') return [];
      if (pendingError !== undefined) {
        const error = pendingError;
        pendingError = undefined;
        throw error;
      }
      if (needsJoin) join();
      const records = drain();
      if (records.length > 0) return records;
      void kick();
      const remaining = deadline - performance.now();
      if (remaining <= 0) return [];
      await waitForChange(needsJoin ? Math.min(remaining, 100) : remaining);
    }
  };

  // Fenced on the generation the partitions were assigned in: a member that missed a rebalance (its
  // session expired) is refused by the coordinator even if it still believes it holds the partition.
  const sendCommit = async (offsets: readonly OffsetCommit[]): Promise<void> => {
    const member = kafkaMemberId;
    if (member === null) throw new NotAssignedError(group, provisionalId, offsets);
    const byTopic = new Map<
      string,
      {
        name: string;
        partitions: { partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number }[];
      }
    >();
    for (const o of offsets) {
      const entry = byTopic.get(o.topic) ?? { name: o.topic, partitions: [] };
      entry.partitions.push({
        partitionIndex: o.partition,
        committedOffset: o.offset,
        committedLeaderEpoch: -1,
      });
      byTopic.set(o.topic, entry);
    }
    for (let attempt = 0; ; attempt++) {
      try {
        coordinator ??= await context.findCoordinator(group);
        const broker = coordinator;
        const api = await negotiatedApi<[string, number, string, string | null, unknown[]], unknown>(
          client,
          'OffsetCommit',
        );
        await api.async(await connectionTo(client, broker), group, generation, member, null, [
          ...byTopic.values(),
        ]);
        return;
      } catch (error) {
        const names = kafkaErrorNames(error);
        if (names.some((name) => FENCED.includes(name))) {
          throw new NotAssignedError(group, member, offsets);
        }
        const retriable =
          names.some((name) => COORDINATOR_MOVED.includes(name)) ||
          (names.length === 0 && (error as { code?: string }).code === 'PLT_KFK_NETWORK');
        if (!retriable || attempt >= 5 || state === 'closed') throw operationError('commit', error);
        coordinator = undefined;
        await sleep(100 * 2 ** attempt);
      }
    }
  };

  const consumer: KafkaConsumer = {
    get memberId() {
      return kafkaMemberId ?? provisionalId;
    },
    poll: async (maxWaitMs) => {
      if (state === 'closing' || state === 'closed') throw new TransportClosedError('poll');
      if (polling !== undefined) throw new ConsumerBusyError(group, consumer.memberId);
      const run = pollLoop(maxWaitMs);
      polling = run;
      try {
        return await run;
      } finally {
        polling = undefined;
      }
    },
    commit: async (offsets) => {
      if (state === 'closed') throw new TransportClosedError('commit');
      if (offsets.length === 0) return;
      const refused: TopicPartition[] = [];
      for (const o of offsets) {
        if (typeof o.offset !== 'bigint' || o.offset < 0n) {
          throw new TypeError(`commit: offset for ${o.topic}[${o.partition}] must be a bigint ≥ 0`);
        }
        if (!holdings.has(key(o.topic, o.partition)))
          refused.push({ topic: o.topic, partition: o.partition });
      }
      if (refused.length > 0) throw new NotAssignedError(group, consumer.memberId, refused);
      await sendCommit(offsets);
    },
    assignment: () =>
      [...holdings.values()]
        .map((h) => ({ topic: h.topic, partition: h.partition }))
        .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1)),
    pause: (partitions) => {
      for (const p of partitions) paused.add(key(p.topic, p.partition));
    },
    resume: (partitions) => {
      for (const p of partitions) paused.delete(key(p.topic, p.partition));
      wake();
    },
    close: () => {
      closing ??= (async () => {
        if (state === 'closed') return;
        const joined = state === 'joined';
        state = 'closing';
        wake();
        await polling?.catch(() => undefined);
        try {
          if (joined) {
            // Like Kafka: the member gets to finish and commit before its partitions go.
            await serially(async () => {
              const held = [...holdings.values()];
              for (const h of held) h.revoking = true;
              await callback('onPartitionsRevoked', held);
            });
          }
          await client.close().catch((error: unknown) => {
            log.warn(
              { err: error },
              'kafka consumer: leaving the group failed; it expires after the session timeout',
            );
            return client.connections.close();
          });
        } finally {
          state = 'closed';
          holdings.clear();
          await Promise.allSettled(nodeFetches.values());
          context.forget(consumer);
        }
      })();
      return closing;
    },
    abandon: async () => {
      if (state === 'closed') return;
      state = 'closed';
      holdings.clear();
      wake();
      // Closing the pool first drops the sockets; the client then finds no coordinator connection and
      // closes without sending LeaveGroup, as a killed process would.
      await client.connections.close().catch(() => undefined);
      await client.close().catch(() => undefined);
      context.forget(consumer);
    },
  };
  return consumer;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new TypeError(`consumer: ${name} must be a positive integer, got ${value}`);
  }
  return value;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
