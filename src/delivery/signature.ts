import { createHmac } from 'node:crypto';

/** The Standard Webhooks headers of one request. */
export interface WebhookSignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * Signs a request body by the Standard Webhooks scheme: HMAC-SHA256, keyed by the secret's base64 bytes
 * (after `whsec_`), over `<id>.<timestamp>.<body>`, sent as `v1,<base64>`. `id` is the event id, the same on
 * every attempt, so a receiver can drop duplicates; `timestampSeconds` is the attempt's time.
 */
export function signWebhook(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: Uint8Array,
): WebhookSignatureHeaders {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const timestamp = String(timestampSeconds);
  const mac = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${mac}` };
}
