import { Agent } from 'undici';
import type { CloudEvent } from '../events/cloud-event.ts';
import { encodeHttpStructured, encodeParsedHttpBinary } from '../events/http-binding.ts';
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

/**
 * The request body and headers of an event, encoded in the subscription's mode and signed. The event is one
 * `fromRecord` decoded (so already validated): binary mode does not validate it again.
 */
export function requestOf(target: SendTarget, event: CloudEvent, now: number) {
  const message = target.mode === 'structured' ? encodeHttpStructured(event) : encodeParsedHttpBinary(event);
  const signature = signWebhook(target.secret, event.id, Math.floor(now / 1000), message.body);
  return {
    headers: { ...message.headers, ...signature, 'user-agent': 'keel-delivery/1' },
    body: message.body,
  };
}

// One undici agent for every endpoint: a pool of keep-alive connections per origin, no pipelining (a reset
// connection then loses one request, not several). Measured against node:http's keep-alive agent with the
// endpoint in another thread: ~30 against ~45 CPU µs per request (docs/decisions/0035). Its own timeouts are
// off: each request has one deadline, the policy's `timeoutMs`, over the whole exchange.
const agent = new Agent({ keepAliveTimeout: 10_000, headersTimeout: 0, bodyTimeout: 0, pipelining: 1 });

/** Why a request ended without an answer because its deadline passed. */
class DeadlineError extends Error {}

/** POSTs a body and reads the status and the start of the answer; rejects on a network error or abort. */
async function post(
  url: URL,
  headers: Record<string, string>,
  body: Uint8Array,
  signal: AbortSignal,
): Promise<{ status: number; text: string }> {
  const answer = await agent.request({
    origin: url.origin,
    path: `${url.pathname}${url.search}`,
    method: 'POST',
    headers,
    body,
    signal,
  });
  // The whole answer is read (so the connection is reused), only its start kept.
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of answer.body as AsyncIterable<Uint8Array>)
    if (text.length < EXCERPT_CHARS) text += decoder.decode(chunk, { stream: true });
  return { status: answer.statusCode, text: text.slice(0, EXCERPT_CHARS) };
}

/**
 * Runs `work` with a signal that aborts when `signal` does or `timeoutMs` passes. A timer cleared on
 * completion rather than `AbortSignal.timeout` and `AbortSignal.any`: those fired (building a DOMException)
 * for every request long after it had ended, ~2 % of a delivery's CPU in the benchmark's profile.
 */
async function withDeadline<T>(
  signal: AbortSignal,
  timeoutMs: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  signal.throwIfAborted();
  const controller = new AbortController();
  const forward = () => controller.abort(signal.reason);
  signal.addEventListener('abort', forward, { once: true });
  const timer = setTimeout(() => controller.abort(new DeadlineError()), timeoutMs);
  try {
    return await work(controller.signal);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', forward);
  }
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
  const url = new URL(target.url);
  try {
    const answer = await withDeadline(signal, target.timeoutMs, (deadline) =>
      post(url, headers, body, deadline),
    );
    return {
      status: answer.status,
      latencyMs: performance.now() - started,
      excerpt: answer.text,
      error: undefined,
    };
  } catch (error) {
    if (signal.aborted) throw error;
    const reason =
      error instanceof DeadlineError ? `no answer within ${target.timeoutMs} ms` : networkError(error);
    return { status: undefined, latencyMs: performance.now() - started, excerpt: '', error: reason };
  }
}

/** A request failure as one line, with the system error's code (ECONNREFUSED, ECONNRESET) when there is one. */
function networkError(error: unknown): string {
  const code = (error as { code?: string }).code;
  const message = (error as Error).message ?? String(error);
  // undici's "other side closed" does not say when: before the answer is what matters to the reader.
  if (code === 'UND_ERR_SOCKET') return `connection closed before the answer: ${message}`;
  return code && !message.includes(code) ? `${message} (${code})` : message;
}
