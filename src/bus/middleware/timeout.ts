import { KeelError } from '../../errors/keel-error.ts';
import type { Middleware } from './middleware.ts';

/** A handler attempt that ran past its time limit. */
export class HandlerTimeoutError extends KeelError {
  readonly code = 'KEEL_HANDLER_TIMEOUT';
  /** The limit, in milliseconds. */
  readonly timeoutMs: number;
  readonly eventId: string;

  constructor(eventId: string, timeoutMs: number) {
    super(`handler did not finish event ${eventId} within ${timeoutMs} ms`);
    this.eventId = eventId;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Fails an attempt that takes longer than `timeoutMs` milliseconds, and aborts the signal the handler
 * was given for it so cooperative handlers stop their work. A batch call is one attempt: the limit is
 * for the whole batch.
 */
export function timeout(timeoutMs: number): Middleware {
  return (next) => (event, context) => {
    const attempt = new AbortController();
    const onOuterAbort = () => attempt.abort(context.signal.reason);
    context.signal.addEventListener('abort', onOuterAbort, { once: true });
    let outcome: Promise<void> | void;
    try {
      outcome = next(event, { ...context, signal: attempt.signal });
    } catch (error) {
      context.signal.removeEventListener('abort', onOuterAbort);
      throw error;
    }
    // A handler that finished synchronously cannot have overrun: no timer for it.
    if (outcome === undefined) {
      context.signal.removeEventListener('abort', onOuterAbort);
      return;
    }
    return raceTimer(outcome, event.id, timeoutMs, attempt).finally(() =>
      context.signal.removeEventListener('abort', onOuterAbort),
    );
  };
}

/** Settles as `outcome` does, or fails with a HandlerTimeoutError (aborting `attempt`) after `timeoutMs`. */
async function raceTimer(
  outcome: PromiseLike<void>,
  eventId: string,
  timeoutMs: number,
  attempt: AbortController,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new HandlerTimeoutError(eventId, timeoutMs);
      attempt.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    await Promise.race([outcome, expired]);
  } finally {
    clearTimeout(timer);
  }
}
