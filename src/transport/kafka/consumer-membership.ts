import {
  type Broker,
  type ConsumerGroupJoinPayload,
  type Consumer as KafkaClientConsumer,
  ListOffsetTimestamps,
} from '@platformatic/kafka';
import type { Logger } from 'pino';
import type { ParsedConsumerOptions } from '../consumer-options.ts';
import { runRebalanceCallback } from '../rebalance-callback.ts';
import type { StartFrom, TopicPartition } from '../transport.ts';
import { isUnknownTopic, operationError } from './client-errors.ts';
import { type Holding, holdingKey, listPartitions, type MemberState } from './consumer-state.ts';
import { connectionTo, negotiatedApi } from './raw-api.ts';

/** What a member's membership needs: its client, shared state and options. */
export interface MembershipContext {
  client: KafkaClientConsumer;
  member: MemberState;
  options: ParsedConsumerOptions;
  log: Logger;
  wake(): void;
  /** The group's coordinator, looked up afresh. */
  findCoordinator(group: string): Promise<Broker>;
}

/**
 * A member's place in its group. Membership itself (JoinGroup/SyncGroup, heartbeats, rejoining) is the
 * client's; this piece gives partitions up before every JoinGroup (`beforeJoin`, the client's
 * `protocolsMetadata` hook, awaited by it) and takes them on the client's join event, positioned at the
 * committed offsets or where `startFrom` says.
 */
export interface Membership {
  /** The client's hook before each JoinGroup: everything held is given up first. */
  beforeJoin(): Promise<Buffer>;
  /** Starts a JoinGroup unless one is running or a failed one waits before the next try. */
  join(): void;
  /** On close: lets the member finish and commit (onPartitionsRevoked) before its partitions go. */
  revokeOnClose(): Promise<void>;
}

/** Creates the membership and subscribes it to the client's join and error events. */
export function createMembership(context: MembershipContext): Membership {
  const { client, member, options, log, wake } = context;
  let rebalances: Promise<void> = Promise.resolve();
  let joining: Promise<void> | undefined;

  const serially = (work: () => Promise<void>): Promise<void> => {
    const run = rebalances.then(work, work);
    rebalances = run.catch(() => undefined);
    return run;
  };
  const callback = (name: 'onPartitionsRevoked' | 'onPartitionsAssigned', held: readonly Holding[]) =>
    runRebalanceCallback(options, name, listPartitions(held), log, 'kafka');

  const revokeAll = async (): Promise<void> => {
    const held = [...member.holdings.values()];
    if (held.length === 0) return;
    for (const h of held) h.revoking = true;
    wake();
    const stop = keepAliveDuringRevoke(context);
    try {
      await callback('onPartitionsRevoked', held);
    } finally {
      stop();
    }
    for (const h of held) member.holdings.delete(holdingKey(h.topic, h.partition));
    log.debug({ partitions: listPartitions(held) }, 'kafka consumer: partitions revoked');
  };

  const assign = async (mine: number, gen: number, memberId: string, parts: TopicPartition[]) => {
    if (mine !== member.epoch || member.phase !== 'joined') return;
    // Partitions still held here were not revoked before the join (the client rejoined without our
    // hook, which it does not do today): they are lost, not handed over.
    if (member.holdings.size > 0) await revokeAll();
    member.generation = gen;
    member.memberId = memberId;
    let positions: Map<string, bigint>;
    try {
      positions = parts.length === 0 ? new Map() : await committedOrStart(client, parts, options.startFrom);
    } catch (error) {
      if (mine !== member.epoch) return;
      // Without positions the member cannot consume: leave the generation and let the next poll rejoin.
      member.pendingError = operationError('fetch committed offsets', error);
      member.needsJoin = true;
      wake();
      return;
    }
    if (mine !== member.epoch || member.phase !== 'joined') return;
    const acquired: Holding[] = parts.map((p) => {
      const position = positions.get(holdingKey(p.topic, p.partition)) ?? 0n;
      return { ...p, position, fetchOffset: position, buffer: [], ready: false, revoking: false };
    });
    for (const h of acquired) member.holdings.set(holdingKey(h.topic, h.partition), h);
    log.debug(
      { generation: gen, partitions: listPartitions(acquired) },
      'kafka consumer: partitions assigned',
    );
    await callback('onPartitionsAssigned', acquired);
    for (const h of acquired) h.ready = true;
    wake();
  };

  client.on('consumer:group:join', (payload: ConsumerGroupJoinPayload) => {
    const mine = member.epoch;
    const gen = payload.generationId ?? client.generationId;
    const parts = (payload.assignments ?? []).flatMap((a) =>
      a.partitions.map((partition) => ({ topic: a.topic, partition })),
    );
    void serially(() => assign(mine, gen, payload.memberId, parts));
  });
  // Emitted when the client's own rejoin (after a heartbeat saw a rebalance) failed for good.
  client.on('error', (error: unknown) => {
    if (member.phase !== 'joined') return;
    log.warn({ err: error }, 'kafka consumer: rejoining the group failed; the next poll retries');
    member.needsJoin = true;
    member.retryJoinAt = Date.now() + 500;
    wake();
  });

  return {
    beforeJoin: async () => {
      member.epoch++;
      if (member.phase === 'joined') await serially(revokeAll);
      return Buffer.alloc(0);
    },
    join: () => {
      if (joining !== undefined || Date.now() < member.retryJoinAt) return;
      member.needsJoin = false;
      joining = client
        .joinGroup({})
        .then(
          () => undefined,
          (error: unknown) => {
            if (member.phase !== 'joined') return;
            member.needsJoin = true;
            member.retryJoinAt = Date.now() + 1_000;
            if (isUnknownTopic(error)) {
              // Like Kafka's Java consumer, a member of a topic that does not exist yet waits for it.
              log.warn(
                { topics: options.topics },
                'kafka consumer: a subscribed topic does not exist yet; retrying',
              );
              return;
            }
            member.pendingError = operationError('join group', error);
          },
        )
        .finally(() => {
          joining = undefined;
          wake();
        });
    },
    revokeOnClose: () =>
      serially(async () => {
        const held = [...member.holdings.values()];
        for (const h of held) h.revoking = true;
        await callback('onPartitionsRevoked', held);
      }),
  };
}

/**
 * While a revoke callback runs the client sends no heartbeats (it is about to rejoin), so the member keeps
 * its session alive itself: the coordinator answers REBALANCE_IN_PROGRESS, which is expected. Returns the
 * function that stops it.
 */
function keepAliveDuringRevoke(context: MembershipContext): () => void {
  const { client, member, options } = context;
  if (member.memberId === null || member.generation < 0) return () => undefined;
  const memberId = member.memberId;
  const gen = member.generation;
  const timer = setInterval(() => {
    void (async () => {
      member.coordinator ??= await context.findCoordinator(options.group);
      const broker = member.coordinator;
      const api = await negotiatedApi<[string, number, string, string | null], unknown>(client, 'Heartbeat');
      await api.async(await connectionTo(client, broker), options.group, gen, memberId, null);
    })().catch(() => undefined);
  }, options.heartbeatIntervalMs);
  return () => clearInterval(timer);
}

/** Each partition's committed offset, or for those never committed the log start or end per `startFrom`. */
async function committedOrStart(
  client: KafkaClientConsumer,
  parts: readonly TopicPartition[],
  startFrom: StartFrom,
): Promise<Map<string, bigint>> {
  const byTopic = new Map<string, number[]>();
  for (const p of parts) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
  const committed = await client.listCommittedOffsets({
    topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
  });
  const positions = new Map<string, bigint>();
  const missing = new Map<string, number[]>();
  for (const p of parts) {
    const offset = committed.get(p.topic)?.[p.partition];
    if (offset !== undefined && offset >= 0n) positions.set(holdingKey(p.topic, p.partition), offset);
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
        positions.set(holdingKey(topic, partition), bounds.get(topic)?.[partition] ?? 0n);
      }
    }
  }
  return positions;
}
