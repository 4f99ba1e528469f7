import type { Logger } from 'pino';
import { appendPlacements } from '../../transport/append-events.ts';
import type { Transport } from '../../transport/transport.ts';
import type { BufferedEvent, LocalBuffer } from './local-buffer.ts';
import type { PublishPolicy } from './publish-policy.ts';

/** What the flusher needs. */
export interface BufferFlusherOptions {
  buffer: LocalBuffer;
  transport: Transport;
  policy: PublishPolicy;
  logger: Logger;
  /** Called with the events of each batch the transport acknowledged. */
  onFlushed: (events: readonly BufferedEvent[]) => void;
  /** Called with the events of a batch the transport refused for good (moved to `failed_events`). */
  onQuarantined: (events: readonly BufferedEvent[], error: unknown) => void;
}

/**
 * Re-sends buffered events in insertion order once the transport answers: probes it with backoff
 * through the publisher's breaker, appends the oldest batch, and deletes it only once acknowledged.
 */
export interface BufferFlusher {
  /** Starts flushing unless it already runs. */
  kick(): void;
  /** Resolves true once the buffer is empty, false at the deadline (milliseconds from now). */
  drain(deadlineMs: number): Promise<boolean>;
  /** Stops after the append in progress, if any; what is left stays in the buffer. */
  stop(): Promise<void>;
}

/** Creates the flusher of a publisher's local buffer. */
export function createBufferFlusher(options: BufferFlusherOptions): BufferFlusher {
  const { buffer, transport, policy, logger } = options;
  const aborter = new AbortController();
  let running: Promise<void> | undefined;
  const idleWaiters = new Set<() => void>();

  const flushOnce = async (isolate: boolean): Promise<'flushed' | 'refused' | 'stopped' | 'empty'> => {
    const batch = buffer.peek(isolate);
    if (batch === undefined) return 'empty';
    const last = batch[batch.length - 1]!;
    try {
      // A transaction's group keeps its all-or-nothing append; the batch's other groups share it.
      const atomic = batch.some((event) => event.atomic);
      await policy.probe(() => appendPlacements(transport, batch, atomic), aborter.signal);
    } catch (error) {
      if (aborter.signal.aborted) return 'stopped';
      if ((error as { code?: unknown }).code === 'KEEL_TRANSPORT_CLOSED') {
        logger.warn(
          { buffered: buffer.count() },
          'publish buffer: the transport is closed; buffered events stay on disk for the next start',
        );
        return 'stopped';
      }
      // Several publishes refused at once: retry them one by one, so only the bad one is set aside.
      if (new Set(batch.map((event) => event.group)).size > 1) return 'refused';
      buffer.quarantine(last.seq, error);
      logger.error(
        { err: error, events: batch.map((event) => event.id), buffer: buffer.path },
        'publish buffer: the transport refused buffered events for good; moved to failed_events',
      );
      options.onQuarantined(batch, error);
      return 'flushed';
    }
    buffer.remove(last.seq);
    options.onFlushed(batch);
    return 'flushed';
  };

  const run = async (): Promise<void> => {
    const started = buffer.count();
    logger.info({ buffered: started, buffer: buffer.path }, 'publish buffer: flushing');
    let isolate = false;
    for (;;) {
      const outcome = await flushOnce(isolate);
      if (outcome === 'empty' || outcome === 'stopped') break;
      isolate = outcome === 'refused';
    }
    if (buffer.count() === 0)
      logger.info({ flushed: started, buffer: buffer.path }, 'publish buffer: flushed');
  };

  const kick = () => {
    if (running !== undefined || aborter.signal.aborted || buffer.count() === 0) return;
    running = run()
      .catch((error: unknown) => logger.error({ err: error }, 'publish buffer: flusher failed'))
      .finally(() => {
        running = undefined;
        for (const wake of [...idleWaiters]) wake();
      });
  };

  return {
    kick,
    drain: (deadlineMs) =>
      new Promise<boolean>((resolve) => {
        kick();
        if (running === undefined) return resolve(buffer.count() === 0);
        const done = (result: boolean) => {
          clearTimeout(timer);
          idleWaiters.delete(onIdle);
          resolve(result);
        };
        const onIdle = () => done(buffer.count() === 0);
        const timer = setTimeout(() => done(buffer.count() === 0), Math.max(0, deadlineMs));
        idleWaiters.add(onIdle);
      }),
    stop: async () => {
      aborter.abort();
      await running;
    },
  };
}
