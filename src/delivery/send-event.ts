import type { CloudEvent } from '../events/cloud-event.ts';
import { encodeHttpBinary, encodeHttpStructured } from '../events/http-binding.ts';
import { signWebhook } from './signature.ts';
import type { SubscriptionSpec } from './subscription.ts';

/** Characters of an endpoint's answer kept with the attempt. */
export const EXCERPT_CHARS = 500;

/** What one request to an endpoint came to. */
export interface SendResult {
  /** HTTP status, or undefined when no answer came (timeout, refused, reset). */
  status: number | undefined;
  /** Milliseconds from sending to the answer's end (or the failure). */
  latencyMs: number;
  /** The start of the answer's body, or the network error's message. */
  excerpt: string;
  /** Why no answer came, or undefined. */
  error: string | undefined;
}

/** Where and how one event is sent. */
export type SendTarget = Pick<SubscriptionSpec, 'url' | 'secret' | 'mode'> & { timeoutMs: number };

/** The request body and headers of an event, encoded in the subscription's mode and signed. */
export function requestOf(target: SendTarget, event: CloudEvent, now: number) {
  const message = target.mode === 'structured' ? encodeHttpStructured(event) : encodeHttpBinary(event);
  const signature = signWebhook(target.secret, event.id, Math.floor(now / 1000), message.body);
  return {
    headers: { ...message.headers, ...signature, 'user-agent': 'keel-delivery/1' },
    body: message.body,
  };
}

/**
 * POSTs one event to the endpoint (CloudEvents HTTP binding, Standard Webhooks signature) and reads the
 * answer; never throws for what the endpoint did (the caller judges the result), only when `signal` aborts.
 */
export async function sendEvent(
  target: SendTarget,
  event: CloudEvent,
  signal: AbortSignal,
): Promise<SendResult> {
  const started = performance.now();
  const { headers, body } = requestOf(target, event, Date.now());
  const timeout = AbortSignal.timeout(target.timeoutMs);
  try {
    const response = await fetch(target.url, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.any([signal, timeout]),
    });
    const text = await response.text();
    return {
      status: response.status,
      latencyMs: performance.now() - started,
      excerpt: text.slice(0, EXCERPT_CHARS),
      error: undefined,
    };
  } catch (error) {
    if (signal.aborted) throw error;
    const reason = timeout.aborted ? `no answer within ${target.timeoutMs} ms` : networkError(error);
    return { status: undefined, latencyMs: performance.now() - started, excerpt: '', error: reason };
  }
}

/** A fetch failure as one line: undici hides the system error (ECONNREFUSED, ECONNRESET) in `cause`. */
function networkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const message = (error as Error).message ?? String(error);
  return cause?.code
    ? `${message} (${cause.code})`
    : cause?.message
      ? `${message}: ${cause.message}`
      : message;
}
