import type { Logger } from 'pino';
import { appendPlacements } from '../../transport/append-events.ts';
import type { Transport } from '../../transport/transport.ts';
import { PublisherClosedError, PublishUnavailableError } from './errors.ts';
import type { PlacedEvent } from './placed-event.ts';
import type { PublishPolicy } from './publish-policy.ts';

/**
 * How one publish goes to the transport: `shared` may share an append with others (lingering), `atomic`
 * gets an all-or-nothing append of its own across topics and partitions (`appendAtomically`).
 */
export type SendMode = 'shared' | 'atomic';

/** How one publish ended: appended (with an offset per event, in order) or kept in the local buffer. */
export type SendOutcome = { buffered: false; offsets: bigint[] } | { buffered: true };

/** One publish on its way to the transport. */
export interface Pending {
  /** Call order. */
  seq: number;
  placed: readonly PlacedEvent[];
  mode: SendMode;
  /** The failure of its direct append, when it had one. */
  firstError: unknown;
  failed: boolean;
  resolve: (outcome: SendOutcome) => void;
  reject: (error: unknown) => void;
}

/** Appends one publish's events in one append (all-or-nothing for an `atomic` one). */
export function appendPending(transport: Transport, pending: Pending): Promise<bigint[]> {
  return appendPlacements(transport, pending.placed, pending.mode === 'atomic');
}

/** What the lane needs from its pipeline. */
export interface SendLaneOptions {
  transport: Transport;
  policy: PublishPolicy;
  /** Whether the publisher has a local buffer to give the lane to when the transport stays away. */
  buffered: boolean;
  /** The buffer file, for logs. */
  bufferPath: string | undefined;
  logger: Logger;
  /** Aborted when closing has waited long enough: retries stop. */
  signal: AbortSignal;
  /** Resolves once no direct append is in flight. */
  directSettled: () => Promise<void>;
  /** Stores a publish in the local buffer (only called with one). */
  toBuffer: (pending: Pending) => void;
  /** Sends a publish that waited in the lane once the transport answers again. */
  redispatch: (pending: Pending) => void;
  /** Called whenever the lane may have become idle. */
  onSettled: () => void;
}

/**
 * The ordered lane of publishes whose direct append failed, and of every later publish: the head is
 * retried (backoff, breaker); when it goes through the others are sent on, when retries run out the
 * lane goes to the local buffer (or its head fails without one).
 */
export interface SendLane {
  /** True while publishes must queue behind the lane. */
  readonly busy: boolean;
  /** Queues a publish behind the lane (while it is busy). */
  push(pending: Pending): void;
  /** Takes a publish whose direct append failed, in call order, and starts the lane. */
  join(pending: Pending): void;
}

type HeadResult = { ok: true; offsets: bigint[] } | { ok: false; failure: unknown; attempts: number };

/** Whether a failure means the transport is away (worth retrying or buffering) rather than a bad publish. */
export function isUnavailable(policy: PublishPolicy, error: unknown): boolean {
  return policy.isRetryable(error) || policy.isCircuitOpen(error);
}

/** Retries the head of the lane through the policy, counting the appends tried. */
async function tryHead(
  options: Pick<SendLaneOptions, 'transport' | 'policy' | 'signal'>,
  head: Pending,
): Promise<HeadResult> {
  const { transport, policy, signal } = options;
  // A direct try the open breaker refused never reached the transport.
  let attempts = head.failed && !policy.isCircuitOpen(head.firstError) ? 1 : 0;
  const append = () => {
    attempts++;
    return appendPending(transport, head);
  };
  try {
    if (!head.failed) {
      try {
        return { ok: true, offsets: await policy.once(append) };
      } catch (failure) {
        if (!isUnavailable(policy, failure)) throw failure;
        head.firstError = failure;
      }
    }
    return { ok: true, offsets: await policy.retry(head.firstError, append, signal) };
  } catch (failure) {
    return { ok: false, failure, attempts };
  }
}

/** Creates the lane of a send pipeline. */
export function createSendLane(options: SendLaneOptions): SendLane {
  const { policy, logger, signal } = options;
  let lane: Pending[] = [];
  let running = false;

  // Moves the whole lane to the buffer, in order; without one, fails each publish with `error(pending)`.
  const giveUp = (failure: unknown, error: (pending: Pending) => unknown) => {
    const moved = lane;
    lane = [];
    if (!options.buffered) {
      for (const pending of moved) pending.reject(error(pending));
      return;
    }
    logger.warn(
      { err: failure, publishes: moved.length, buffer: options.bufferPath },
      'transport unavailable: publishes go to the local buffer',
    );
    for (const pending of moved) options.toBuffer(pending);
  };

  // Every exit sets `running` false in the same synchronous step as the lane empties, so a publish
  // arriving just after goes direct (or to the buffer) instead of into a lane nobody runs.
  const run = async () => {
    // Publishes already handed to the transport settle first, so a failed one takes its place in order.
    await options.directSettled();
    while (lane.length > 0) {
      const head = lane[0]!;
      const result = signal.aborted ? undefined : await tryHead(options, head);
      if (result?.ok) {
        lane.shift();
        head.resolve({ buffered: false, offsets: result.offsets });
        // The transport answers again: the publishes that waited go out now, in call order.
        const waiting = lane;
        lane = [];
        running = false;
        for (const pending of waiting) options.redispatch(pending);
        return;
      }
      const failure = result?.failure;
      if (signal.aborted) {
        giveUp(failure, () => new PublisherClosedError('publish'));
        break;
      }
      if (!isUnavailable(policy, failure)) {
        lane.shift();
        head.reject(failure);
        continue;
      }
      if (options.buffered) {
        giveUp(failure, () => failure);
        break;
      }
      // Without a buffer only the head has used up its tries; the next ones get theirs (at once
      // refused while the breaker is open).
      lane.shift();
      head.reject(
        new PublishUnavailableError(
          policy.isCircuitOpen(failure) ? 'circuit-open' : 'retries-exhausted',
          result?.attempts ?? 0,
          head.placed.map((item) => item.event.id),
          failure,
        ),
      );
    }
    running = false;
  };

  return {
    get busy() {
      return running || lane.length > 0;
    },
    push: (pending) => {
      lane.push(pending);
    },
    // Failed direct appends join in call order: another publish made earlier may fail later.
    join: (pending) => {
      let at = lane.length;
      while (at > 0 && lane[at - 1]!.seq > pending.seq) at--;
      lane.splice(at, 0, pending);
      if (running) return;
      running = true;
      void run()
        .catch((error: unknown) => {
          running = false;
          logger.error({ err: error }, 'publisher: send lane failed');
        })
        .finally(options.onSettled);
    },
  };
}
