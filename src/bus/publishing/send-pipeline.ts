import type { Logger } from 'pino';
import type { Transport } from '../../transport/transport.ts';
import type { BufferFlusher } from './buffer-flusher.ts';
import { PublisherClosedError, PublishUnavailableError } from './errors.ts';
import type { LingerBatcher } from './linger-batcher.ts';
import type { LocalBuffer } from './local-buffer.ts';
import { appendPlaced, type PlacedEvent } from './placed-event.ts';
import type { PublishPolicy } from './publish-policy.ts';

/**
 * How one publish goes to the transport: `shared` may share an append with others (lingering), `atomic`
 * gets an all-or-nothing append of its own across topics and partitions (`appendAtomically`).
 */
export type SendMode = 'shared' | 'atomic';

/** How one publish ended: appended (with an offset per event, in order) or kept in the local buffer. */
export type SendOutcome = { buffered: false; offsets: bigint[] } | { buffered: true };

/** What the pipeline needs. */
export interface SendPipelineOptions {
  transport: Transport;
  policy: PublishPolicy;
  /** The local durable buffer and its flusher, when the publisher has one. */
  buffer: { store: LocalBuffer; flusher: BufferFlusher } | undefined;
  /** Shares appends between concurrent publishes, when lingering is on. */
  linger: LingerBatcher<PlacedEvent> | undefined;
  logger: Logger;
}

/**
 * Gets publishes onto the transport in call order: directly while it answers; when an append fails,
 * that publish and every later one wait in one ordered lane while the head is retried (backoff,
 * breaker); when retries run out or the breaker is open, the lane goes to the local buffer (or fails
 * without one), and later publishes go behind it until the flusher has emptied it.
 */
export interface SendPipeline {
  /** Sends one publish's events in one append (buffered as one group when the transport is away). */
  send(placed: readonly PlacedEvent[], mode: SendMode): Promise<SendOutcome>;
  /**
   * Refuses new sends, waits for those in flight (retries included) up to the deadline (milliseconds),
   * then moves what is still waiting to the buffer (or fails it), flushes the buffer until the
   * deadline and leaves the rest on disk. May overrun by one retry delay.
   */
  close(deadlineMs: number): Promise<void>;
}

interface Pending {
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

/** Creates the send pipeline of a publisher. */
export function createSendPipeline(options: SendPipelineOptions): SendPipeline {
  const { transport, policy, buffer, linger, logger } = options;
  const aborter = new AbortController();
  let nextSeq = 0;
  let inFlight = 0;
  let lane: Pending[] = [];
  let laneRunning = false;
  let closing = false;
  const idleWaiters = new Set<() => void>();

  const wakeIdle = () => {
    for (const wake of [...idleWaiters]) wake();
  };
  const idle = () => inFlight === 0 && !laneRunning && lane.length === 0;
  const waitFor = (condition: () => boolean, deadline: number) =>
    new Promise<boolean>((resolve) => {
      const check = () => {
        if (!condition() && Date.now() < deadline) return;
        clearTimeout(timer);
        idleWaiters.delete(check);
        resolve(condition());
      };
      const timer = Number.isFinite(deadline)
        ? setTimeout(check, Math.max(0, deadline - Date.now()))
        : undefined;
      idleWaiters.add(check);
      check();
    });

  const appendNow = (pending: Pending) => () =>
    appendPlaced(transport, pending.placed, pending.mode === 'atomic');
  const unavailable = (error: unknown) => policy.isRetryable(error) || policy.isCircuitOpen(error);

  const toBuffer = (pending: Pending) => {
    try {
      buffer!.store.add(pending.placed, pending.mode === 'atomic');
      pending.resolve({ buffered: true });
    } catch (error) {
      pending.reject(error);
    }
    buffer!.flusher.kick();
  };

  const direct = (pending: Pending) => {
    inFlight++;
    const attempt =
      linger !== undefined && pending.mode === 'shared'
        ? linger.add(pending.placed)
        : policy.once(appendNow(pending));
    attempt
      .then(
        (offsets) => pending.resolve({ buffered: false, offsets }),
        (error: unknown) => {
          if (!unavailable(error)) return pending.reject(error);
          pending.firstError = error;
          pending.failed = true;
          toLane(pending);
        },
      )
      .finally(() => {
        inFlight--;
        wakeIdle();
      });
  };

  const dispatch = (pending: Pending) => {
    if (buffer !== undefined && buffer.store.count() > 0) toBuffer(pending);
    else if (laneRunning || lane.length > 0) lane.push(pending);
    else direct(pending);
  };

  // Failed direct appends join in call order: another publish made earlier may fail later.
  const toLane = (pending: Pending) => {
    let at = lane.length;
    while (at > 0 && lane[at - 1]!.seq > pending.seq) at--;
    lane.splice(at, 0, pending);
    if (laneRunning) return;
    laneRunning = true;
    void runLane()
      .catch((error: unknown) => {
        laneRunning = false;
        logger.error({ err: error }, 'publisher: send lane failed');
      })
      .finally(wakeIdle);
  };

  type HeadResult = { ok: true; offsets: bigint[] } | { ok: false; failure: unknown; attempts: number };

  const tryHead = async (head: Pending): Promise<HeadResult> => {
    // A direct try the open breaker refused never reached the transport.
    let attempts = head.failed && !policy.isCircuitOpen(head.firstError) ? 1 : 0;
    const append = () => {
      attempts++;
      return appendNow(head)();
    };
    try {
      if (!head.failed) {
        try {
          return { ok: true, offsets: await policy.once(append) };
        } catch (failure) {
          if (!unavailable(failure)) throw failure;
          head.firstError = failure;
        }
      }
      return { ok: true, offsets: await policy.retry(head.firstError, append, aborter.signal) };
    } catch (failure) {
      return { ok: false, failure, attempts };
    }
  };

  // Moves the whole lane to the buffer, in order; without one, fails each publish with `error(pending)`.
  const giveUpLane = (failure: unknown, error: (pending: Pending) => unknown) => {
    const moved = lane;
    lane = [];
    if (buffer === undefined) {
      for (const pending of moved) pending.reject(error(pending));
      return;
    }
    logger.warn(
      { err: failure, publishes: moved.length, buffer: buffer.store.path },
      'transport unavailable: publishes go to the local buffer',
    );
    for (const pending of moved) toBuffer(pending);
  };

  // Every exit sets `laneRunning` false in the same synchronous step as the lane empties, so a
  // publish arriving just after goes direct (or to the buffer) instead of into a lane nobody runs.
  const runLane = async () => {
    // Publishes already handed to the transport settle first, so a failed one takes its place in order.
    await waitFor(() => inFlight === 0, Number.POSITIVE_INFINITY);
    while (lane.length > 0) {
      const head = lane[0]!;
      const result = aborter.signal.aborted ? undefined : await tryHead(head);
      if (result?.ok) {
        lane.shift();
        head.resolve({ buffered: false, offsets: result.offsets });
        // The transport answers again: the publishes that waited go out now, in call order.
        const waiting = lane;
        lane = [];
        laneRunning = false;
        for (const pending of waiting) dispatch(pending);
        return;
      }
      const failure = result?.failure;
      if (aborter.signal.aborted) {
        giveUpLane(failure, () => new PublisherClosedError('publish'));
        break;
      }
      if (!unavailable(failure)) {
        lane.shift();
        head.reject(failure);
        continue;
      }
      if (buffer !== undefined) {
        giveUpLane(failure, () => failure);
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
    laneRunning = false;
  };

  return {
    send: (placed, mode) => {
      if (closing) return Promise.reject(new PublisherClosedError('publish'));
      return new Promise<SendOutcome>((resolve, reject) => {
        dispatch({ seq: nextSeq++, placed, mode, firstError: undefined, failed: false, resolve, reject });
      });
    },

    close: async (deadlineMs) => {
      if (closing) return;
      closing = true;
      const deadline = Date.now() + deadlineMs;
      linger?.flush();
      if (!(await waitFor(idle, deadline))) {
        // Stop retrying: what still waits goes to the buffer, or fails with PublisherClosedError.
        aborter.abort();
        await waitFor(idle, Number.POSITIVE_INFINITY);
      }
      if (buffer !== undefined) {
        const flushed = await buffer.flusher.drain(deadline - Date.now());
        await buffer.flusher.stop();
        if (!flushed) {
          logger.warn(
            { buffered: buffer.store.count(), buffer: buffer.store.path },
            'publisher closed with events still in the local buffer; the next publisher on this file sends them',
          );
        }
        buffer.store.close();
      }
    },
  };
}
