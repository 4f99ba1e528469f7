import type { Logger } from 'pino';
import type { PartitionWrite, StoredRecord } from '../../transport/transport.ts';
import type { EscalationListener, Failure, MoveRecord } from '../dead-letter/escalate.ts';
import { type FailureInfo, failureOf, withFailure } from '../dead-letter/failure-headers.ts';
import type { PartitionProgress } from '../partition-progress.ts';
import type { RecordHandler } from './key-ordered-dispatch.ts';

/** What becomes of the events parked behind an event that goes to the dead-letter queue. */
export type DeadLetterParking = 'park' | 'continue';

/**
 * The events of one key (of one source topic) that wait behind its oldest failed event: how many sit in
 * each delayed-retry step, and which (by source offset) sit in the DLQ. Along the chain, steps never rise:
 * the head is in the highest step, every later event in the same step or a lower one.
 */
export interface Chain {
  sourceTopic: string;
  /** Partition of the source topic; the chain's retry and dead-letter records sit in the same partition number. */
  partition: number;
  key: string;
  /** Records in each delayed-retry step, by step (1-based); a record moving up counts where it goes. */
  inRetry: number[];
  /**
   * Records moving up out of each step and not there yet: still physically in it, so a fresh record of the
   * key goes no higher than that step (it would overtake them).
   */
  leaving: number[];
  /** Source offsets of its records in the DLQ. */
  inDlq: Set<bigint>;
  /** A release from the DLQ whose first record failed again: the rest of it goes back behind it. */
  failedRelease?: string;
  /** When the key began waiting (milliseconds since the epoch). */
  since: number;
}

/** How many keys are parked, how many events wait behind their heads, and since when the oldest waits. */
export interface ParkingStats {
  keys: number;
  events: number;
  oldestSince: number | undefined;
}

/** Ordered retries per key: which keys are parked, and what their later events do. */
export interface Parking {
  /** Wraps the record handler: a parked key's later records follow their chain unhandled; the rest go through. */
  wrap(inner: RecordHandler): RecordHandler;
  /** Keeps the chains in step with the escalation's moves. */
  readonly listener: EscalationListener;
  /** The chain of a key of a source topic, if it is parked. */
  chain(sourceTopic: string, key: string): Chain | undefined;
  /**
   * Counts a record found waiting after an assignment: a retry-topic record past the group's committed
   * offset, or a pending dead letter marked parked. Rebuilds the chains from the durable topics.
   */
  restore(record: StoredRecord): void;
  /** Forgets the chains of source partitions taken from this member. */
  drop(sourcePartitions: ReadonlySet<string>): void;
  /** Parked keys, events waiting behind their heads, and the oldest key's start. */
  stats(): ParkingStats;
}

/** What the parking needs. */
export interface ParkingOptions {
  /** Delays of the delayed-retry steps; the DLQ is step `delays.length + 1`. */
  delays: readonly number[];
  retryTopicOf: (step: number) => string;
  dlqTopic: string;
  partitionsOf: (topic: string) => number;
  isRetryTopic: (topic: string) => boolean;
  /** Handler name of an event type whose route keeps order per key; undefined for the others. */
  orderedHandler: (type: string) => string | undefined;
  onDeadLetter: DeadLetterParking;
  move: MoveRecord;
  /** Source offsets of the DLQ entries of a chain that were discarded (checked before parking more there). */
  discardedInDlq: (chain: Chain) => Promise<ReadonlySet<bigint>>;
  logger: Logger;
}

/** Where a record is along its key's chain. */
interface Place {
  id: string;
  sourceTopic: string;
  key: string;
  /** 0 for a fresh record of a source topic, the step for a retry record, 'released' for a DLQ release. */
  step: number | 'released';
  failure: FailureInfo | undefined;
  handler: string;
}

/** Map key of a source partition, as `drop` takes it. */
export const sourcePartitionId = (topic: string, partition: number) => `${topic}\u0000${partition}`;
const chainId = (sourceTopic: string, key: string) => `${sourceTopic}\u0000${key}`;

/** The chains of a router's parked keys and the counting along them. */
interface ChainBook {
  chains: Map<string, Chain>;
  /** Records the escalation or a follow moved on (a head that moved is no longer counted where it was). */
  moved: WeakSet<StoredRecord>;
  dlqStep: number;
  placeOf(record: StoredRecord): Place | undefined;
  chainFor(place: Place, partition: number): Chain;
  forgetIfEmpty(id: string, chain: Chain): void;
  /** The first step above `step` holding records of the chain (the DLQ counts as the last step). */
  higherStep(chain: Chain, step: number): number | undefined;
  /** One record fewer in a delayed-retry step. */
  leave(chain: Chain, step: number): void;
  /** The lowest step where a fresh record of the chain must go (behind its last record, wherever that is). */
  lowestStep(chain: Chain): number | undefined;
  /** Records moving out of a step, by record: their move is under way. */
  inTransit: WeakMap<StoredRecord, { chain: Chain; step: number }>;
  /** Marks a record as leaving `step` until `arrived` is called. */
  departing(chain: Chain, record: StoredRecord, step: number): void;
  /** Its move ended (done or not): it is no longer leaving its step. */
  arrived(record: StoredRecord): void;
  /** Moves a record unhandled to `step`, behind the chain's record before it. */
  follow(
    chain: Chain,
    place: Place,
    record: StoredRecord,
    progress: PartitionProgress,
    step: number,
  ): Promise<boolean>;
}

/** Creates the chain book of a router. */
function createChainBook(options: ParkingOptions): ChainBook {
  const { delays } = options;
  const dlqStep = delays.length + 1;
  const chains = new Map<string, Chain>();
  const moved = new WeakSet<StoredRecord>();
  const inTransit = new WeakMap<StoredRecord, { chain: Chain; step: number }>();
  const book: ChainBook = {
    chains,
    moved,
    dlqStep,
    placeOf(record) {
      const type = record.headers.ce_type;
      if (record.key === null || type === undefined) return undefined;
      const handler = options.orderedHandler(type);
      if (handler === undefined) return undefined;
      const retry = options.isRetryTopic(record.topic);
      const released = !retry && record.headers.keel_released !== undefined;
      const failure = retry || released ? failureOf(record) : undefined;
      if ((retry || released) && failure === undefined) return undefined;
      const sourceTopic = failure?.sourceTopic ?? record.topic;
      const step = released ? 'released' : retry ? Math.max(1, (failure?.delivery ?? 2) - 1) : 0;
      return { id: chainId(sourceTopic, record.key), sourceTopic, key: record.key, step, failure, handler };
    },
    chainFor(place, partition) {
      let chain = chains.get(place.id);
      if (!chain) {
        const { sourceTopic, key } = place;
        chain = {
          sourceTopic,
          partition,
          key,
          inRetry: [],
          leaving: [],
          inDlq: new Set(),
          since: Date.now(),
        };
        chains.set(place.id, chain);
      }
      return chain;
    },
    forgetIfEmpty(id, chain) {
      // Only the chain the map still holds: a record of an earlier holding of the partition, finishing
      // after its chain was dropped and rebuilt, must not remove the rebuilt one.
      if (chains.get(id) !== chain) return;
      const empty = (counts: number[]) => counts.every((n) => !n);
      if (chain.inDlq.size === 0 && empty(chain.inRetry) && empty(chain.leaving)) chains.delete(id);
    },
    higherStep(chain, step) {
      for (let s = step + 1; s <= delays.length; s++) if (chain.inRetry[s]) return s;
      return chain.inDlq.size > 0 ? dlqStep : undefined;
    },
    leave(chain, step) {
      chain.inRetry[step] = Math.max(0, (chain.inRetry[step] ?? 0) - 1);
    },
    lowestStep(chain) {
      for (let s = 1; s <= delays.length; s++) if (chain.inRetry[s] || chain.leaving[s]) return s;
      return chain.inDlq.size > 0 ? dlqStep : undefined;
    },
    inTransit,
    departing(chain, record, step) {
      if (step <= 0) return;
      chain.leaving[step] = (chain.leaving[step] ?? 0) + 1;
      inTransit.set(record, { chain, step });
    },
    arrived(record) {
      const transit = inTransit.get(record);
      if (!transit) return;
      inTransit.delete(record);
      transit.chain.leaving[transit.step] = Math.max(0, (transit.chain.leaving[transit.step] ?? 0) - 1);
    },
    follow(chain, place, record, progress, step) {
      const info = followerInfo(record, place, step, delays.length);
      if (typeof place.step === 'number') book.departing(chain, record, place.step);
      if (step < dlqStep) chain.inRetry[step] = (chain.inRetry[step] ?? 0) + 1;
      else chain.inDlq.add(info.sourceOffset);
      moved.add(record);
      const topic = step < dlqStep ? options.retryTopicOf(step) : options.dlqTopic;
      const write: PartitionWrite = {
        topic,
        partition: info.sourcePartition % options.partitionsOf(topic),
        records: [withFailure(record, info)],
      };
      return options.move(progress, record.offset, [write]).finally(() => book.arrived(record));
    },
  };
  return book;
}

/**
 * The record handler with parking in front: a fresh record of a parked key follows to its chain's lowest
 * step; a retry record with chain records in a higher step follows them there; the chain's head is handled
 * (and counted where it is until it succeeded or moved on); a record released from the DLQ is handled
 * ahead of the key's records still parked, unless the release's first record failed again.
 */
function parkingHandler(book: ChainBook, options: ParkingOptions, inner: RecordHandler): RecordHandler {
  const { chains, dlqStep } = book;

  /**
   * Where a fresh record of a parked key goes: the chain's lowest step, after dropping its dead letters that
   * were discarded. The decision and the count it adds are made in one synchronous stretch (after the only
   * await, a DLQ lookup, the chain is looked up again): a head finishing in between must not empty and forget
   * the chain this record then counts itself into.
   */
  const followFresh = async (place: Place, record: StoredRecord, progress: PartitionProgress) => {
    let chain = chains.get(place.id);
    if (chain && book.lowestStep(chain) === dlqStep) {
      const discarded = await options.discardedInDlq(chain);
      chain = chains.get(place.id);
      if (chain) for (const offset of discarded) chain.inDlq.delete(offset);
      if (chain) book.forgetIfEmpty(place.id, chain);
      chain = chains.get(place.id);
    }
    const step = chain && book.lowestStep(chain);
    if (!chain || step === undefined) return undefined;
    return book.follow(chain, place, record, progress, step);
  };

  return async (record, progress) => {
    const place = book.placeOf(record);
    // A record of a partition taken away (its route does nothing with it) must not touch the chains, which
    // its partition's next holding rebuilds.
    if (place === undefined || progress.revoked) return inner(record, progress);
    if (place.step === 0) {
      const followed = chains.has(place.id) ? await followFresh(place, record, progress) : undefined;
      return followed ?? inner(record, progress);
    }
    const chain = chains.get(place.id);
    if (place.step === 'released') {
      if (place.failure) chain?.inDlq.delete(place.failure.sourceOffset);
      if (chain && chain.failedRelease === place.failure?.released) {
        return book.follow(chain, place, record, progress, dlqStep);
      }
      const handled = await inner(record, progress);
      if (chain) book.forgetIfEmpty(place.id, chain);
      return handled;
    }
    if (!chain) return inner(record, progress);
    const step = place.step;
    const higher = book.higherStep(chain, step);
    if (higher !== undefined) {
      book.leave(chain, step);
      return book.follow(chain, place, record, progress, higher);
    }
    const handled = await inner(record, progress).finally(() => book.arrived(record));
    if (handled && !book.moved.has(record)) {
      book.leave(chain, step);
      book.forgetIfEmpty(place.id, chain);
    }
    return handled;
  };
}

/** The escalation listener of the parking: a failed record's chain is created or moves up with it. */
function chainListener(book: ChainBook, options: ParkingOptions): EscalationListener {
  return {
    escalating(failure: Failure, step: number) {
      const place = book.placeOf(failure.record);
      // A record of a partition taken away: its move will be refused, and its chain is its new owner's.
      if (place === undefined || failure.progress.revoked) return undefined;
      book.moved.add(failure.record);
      const chain = book.chainFor(place, failure.previous?.sourcePartition ?? failure.record.partition);
      if (typeof place.step === 'number' && place.step > 0) {
        book.leave(chain, place.step);
        // Until its move is done it is still in its step: fresh records of the key go no higher.
        book.departing(chain, failure.record, place.step);
      }
      if (step < book.dlqStep) {
        chain.inRetry[step] = (chain.inRetry[step] ?? 0) + 1;
        return undefined;
      }
      if (options.onDeadLetter === 'continue') {
        book.forgetIfEmpty(place.id, chain);
        return undefined;
      }
      chain.inDlq.add(failure.previous?.sourceOffset ?? failure.record.offset);
      if (place.step === 'released') chain.failedRelease = place.failure?.released;
      return 'head';
    },
  };
}

/** Counts a record found waiting after an assignment into its chain (see `Parking.restore`). */
function restoreRecord(book: ChainBook, options: ParkingOptions, record: StoredRecord): void {
  const dead = record.topic === options.dlqTopic;
  const failure = failureOf(record);
  const type = record.headers.ce_type;
  if (failure === undefined || record.key === null || type === undefined) return;
  if (options.orderedHandler(type) === undefined || (dead && failure.parked === undefined)) return;
  const { sourceTopic } = failure;
  const id = chainId(sourceTopic, record.key);
  const place: Place = { id, sourceTopic, key: record.key, step: 0, failure, handler: failure.handler };
  const chain = book.chainFor(place, failure.sourcePartition);
  chain.since = Math.min(chain.since, failure.firstFailureAt || chain.since);
  if (dead) chain.inDlq.add(failure.sourceOffset);
  else {
    const step = Math.max(1, (failure.delivery ?? 2) - 1);
    chain.inRetry[step] = (chain.inRetry[step] ?? 0) + 1;
  }
}

/** Creates the parking of a router. */
export function createParking(options: ParkingOptions): Parking {
  const book = createChainBook(options);
  const { chains } = book;
  return {
    wrap: (inner) => parkingHandler(book, options, inner),
    listener: chainListener(book, options),
    chain: (sourceTopic, key) => chains.get(chainId(sourceTopic, key)),
    restore: (record) => restoreRecord(book, options, record),
    drop(sourcePartitions) {
      for (const [id, chain] of chains) {
        if (sourcePartitions.has(sourcePartitionId(chain.sourceTopic, chain.partition))) chains.delete(id);
      }
    },
    stats() {
      let events = 0;
      let oldestSince: number | undefined;
      for (const chain of chains.values()) {
        events += chain.inRetry.reduce((sum, n) => sum + (n ?? 0), 0) + chain.inDlq.size - 1;
        if (oldestSince === undefined || chain.since < oldestSince) oldestSince = chain.since;
      }
      return { keys: chains.size, events: Math.max(0, events), oldestSince };
    },
  };
}

/** Failure headers of a record that follows its chain unhandled to `step` (due at once behind its head). */
function followerInfo(record: StoredRecord, place: Place, step: number, retrySteps: number): FailureInfo {
  const now = Date.now();
  const base: FailureInfo = place.failure ?? {
    errorType: 'ParkedBehindFailedEvent',
    errorMessage: `waits behind an earlier failed event of key "${place.key}"`,
    errorStack: '',
    attempts: 0,
    handler: place.handler,
    firstFailureAt: now,
    lastFailureAt: now,
    sourceTopic: record.topic,
    sourcePartition: record.partition,
    sourceOffset: record.offset,
  };
  const info: FailureInfo = { ...base, parked: 'follower' };
  delete info.released;
  delete info.delivery;
  delete info.dueAt;
  if (step <= retrySteps) {
    info.delivery = step + 1;
    info.dueAt = 0;
  }
  return info;
}
