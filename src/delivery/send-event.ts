import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
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

// One keep-alive agent per scheme for every endpoint: reused connections, and measured 5 to 7 times the
// requests per second of fetch on the same machine (docs/decisions/0023).
const agents = {
  'http:': new HttpAgent({ keepAlive: true, keepAliveMsecs: 10_000 }),
  'https:': new HttpsAgent({ keepAlive: true, keepAliveMsecs: 10_000 }),
};

/** POSTs a body and reads the status and the start of the answer; rejects on a network error or abort. */
function post(
  url: URL,
  headers: Record<string, string>,
  body: Uint8Array,
  signal: AbortSignal,
): Promise<{ status: number; text: string }> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(body.byteLength) },
        agent: url.protocol === 'https:' ? agents['https:'] : agents['http:'],
        signal,
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          if (text.length < EXCERPT_CHARS) text += chunk;
        });
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, text: text.slice(0, EXCERPT_CHARS) }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
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
    const answer = await post(new URL(target.url), headers, body, AbortSignal.any([signal, timeout]));
    return {
      status: answer.status,
      latencyMs: performance.now() - started,
      excerpt: answer.text,
      error: undefined,
    };
  } catch (error) {
    if (signal.aborted) throw error;
    const reason = timeout.aborted ? `no answer within ${target.timeoutMs} ms` : networkError(error);
    return { status: undefined, latencyMs: performance.now() - started, excerpt: '', error: reason };
  }
}

/** A request failure as one line, with the system error's code (ECONNREFUSED, ECONNRESET) when there is one. */
function networkError(error: unknown): string {
  const code = (error as { code?: string }).code;
  const message = (error as Error).message ?? String(error);
  return code && !message.includes(code) ? `${message} (${code})` : message;
}
