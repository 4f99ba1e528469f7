import type { Logger } from 'pino';
import type { Transport } from '../../transport/transport.ts';
import type { BufferFlusher } from './buffer-flusher.ts';
import { PublisherClosedError } from './errors.ts';
import type { LingerBatcher } from './linger-batcher.ts';
import type { LocalBuffer } from './local-buffer.ts';
import type { PlacedEvent } from './placed-event.ts';
import type { PublishPolicy } from './publish-policy.ts';
import {
  appendPending,
  createSendLane,
  isUnavailable,
  type Pending,
  type SendMode,
  type SendOutcome,
} from './send-lane.ts';

export type { SendMode, SendOutcome } from './send-lane.ts';

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

/** Waits for conditions that change when publishes settle: `wake` re-checks every waiter. */
interface SettleWatch {
  /** Re-checks the waiting conditions. */
  wake(): void;
  /** Resolves with `condition()` once it holds or at `deadline` (epoch milliseconds; Infinity for none). */
  waitFor(condition: () => boolean, deadline: number): Promise<boolean>;
}

function createSettleWatch(): SettleWatch {
  const waiters = new Set<() => void>();
  return {
    wake: () => {
      for (const wake of [...waiters]) wake();
    },
    waitFor: (condition, deadline) =>
      new Promise<boolean>((resolve) => {
        const check = () => {
          if (!condition() && Date.now() < deadline) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(condition());
        };
        const timer = Number.isFinite(deadline)
          ? setTimeout(check, Math.max(0, deadline - Date.now()))
          : undefined;
        waiters.add(check);
        check();
      }),
  };
}

/** Creates the send pipeline of a publisher. */
export function createSendPipeline(options: SendPipelineOptions): SendPipeline {
  const { transport, policy, buffer, linger, logger } = options;
  const aborter = new AbortController();
  const watch = createSettleWatch();
  let nextSeq = 0;
  let inFlight = 0;
  let closing = false;

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
        : policy.once(() => appendPending(transport, pending));
    attempt
      .then(
        (offsets) => pending.resolve({ buffered: false, offsets }),
        (error: unknown) => {
          if (!isUnavailable(policy, error)) return pending.reject(error);
          pending.firstError = error;
          pending.failed = true;
          lane.join(pending);
        },
      )
      .finally(() => {
        inFlight--;
        watch.wake();
      });
  };

  const dispatch = (pending: Pending) => {
    if (buffer !== undefined && buffer.store.count() > 0) toBuffer(pending);
    else if (lane.busy) lane.push(pending);
    else direct(pending);
  };

  const lane = createSendLane({
    transport,
    policy,
    buffered: buffer !== undefined,
    bufferPath: buffer?.store.path,
    logger,
    signal: aborter.signal,
    directSettled: async () => {
      await watch.waitFor(() => inFlight === 0, Number.POSITIVE_INFINITY);
    },
    toBuffer,
    redispatch: dispatch,
    onSettled: watch.wake,
  });
  const idle = () => inFlight === 0 && !lane.busy;

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
      if (!(await watch.waitFor(idle, deadline))) {
        // Stop retrying: what still waits goes to the buffer, or fails with PublisherClosedError.
        aborter.abort();
        await watch.waitFor(idle, Number.POSITIVE_INFINITY);
      }
      if (buffer !== undefined) await closeBuffer(buffer, deadline, logger);
    },
  };
}

/** Flushes the buffer until the deadline (epoch milliseconds), then closes it; what is left stays on disk. */
async function closeBuffer(
  buffer: { store: LocalBuffer; flusher: BufferFlusher },
  deadline: number,
  logger: Logger,
): Promise<void> {
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
