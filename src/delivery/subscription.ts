import { parse as parseCel } from '@marcbachmann/cel-js';
import { z } from 'zod';

/** Longest CEL condition a subscription takes, in characters. */
export const MAX_CONDITION_LENGTH = 2_000;

/** Bytes a signing secret decodes to: at least 24 (192 bits), at most 64, as Standard Webhooks advises. */
const SECRET_BYTES = { min: 24, max: 64 } as const;

const millis = (min: number, max: number) =>
  z
    .int({ error: `expected milliseconds from ${min} to ${max}` })
    .min(min)
    .max(max);

/** A subscription name: lower-case letters, digits and dashes, it names the consumer group too. */
export const subscriptionNameSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, {
  error: 'expected 1 to 63 lower-case letters, digits or dashes, starting with a letter or digit',
});

/** The endpoint: an absolute http(s) URL without credentials or a fragment. */
export const endpointUrlSchema = z.string().superRefine((text, context) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    context.addIssue({
      code: 'custom',
      message: `not an absolute URL: ${JSON.stringify(text.slice(0, 200))}`,
    });
    return;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    context.addIssue({ code: 'custom', message: `expected an http or https URL, not ${url.protocol}` });
  if (url.username !== '' || url.password !== '')
    context.addIssue({
      code: 'custom',
      message: 'credentials in the URL are not allowed: use the signing secret',
    });
  if (url.hash !== '')
    context.addIssue({ code: 'custom', message: 'a URL fragment is never sent: remove it' });
});

/** A Standard Webhooks signing secret: `whsec_` and the base64 of 24 to 64 random bytes. */
export const signingSecretSchema = z.string().superRefine((text, context) => {
  const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(text);
  if (!match) {
    context.addIssue({ code: 'custom', message: 'expected `whsec_` followed by base64 (Standard Webhooks)' });
    return;
  }
  const bytes = Buffer.from(match[1] as string, 'base64').length;
  if (bytes < SECRET_BYTES.min || bytes > SECRET_BYTES.max)
    context.addIssue({
      code: 'custom',
      message: `the secret decodes to ${bytes} bytes: expected ${SECRET_BYTES.min} to ${SECRET_BYTES.max}`,
    });
});

/** A CEL condition over `event` and `data` that must parse. */
const conditionSchema = z
  .string()
  .min(1)
  .max(MAX_CONDITION_LENGTH)
  .superRefine((text, context) => {
    try {
      parseCel(text);
    } catch (error) {
      context.addIssue({
        code: 'custom',
        message: `not a CEL expression: ${(error as Error).message.split('\n')[0]}`,
      });
    }
  });

/** Which events a subscription receives; every field narrows, none means every event of the catalog. */
export const subscriptionFilterSchema = z.strictObject({
  types: z.array(z.string().min(1)).min(1).optional().describe('Event types, exactly; default every type.'),
  tenant: z.string().min(1).optional().describe('Only events of this `tenantid`.'),
  source: z.string().min(1).optional().describe('Only events of this `source`.'),
  condition: conditionSchema
    .optional()
    .describe(
      'A CEL expression over `event` (its attributes) and `data`; the event is sent when it is `true`.',
    ),
});

/** How a subscription delivers: timeouts, concurrency, retries and order. */
export const deliveryPolicySchema = z.strictObject({
  timeoutMs: millis(100, 120_000).default(10_000).describe('Milliseconds one request may take.'),
  concurrency: z.int().min(1).max(1_024).default(64).describe('Requests in flight at most (across keys).'),
  maxAttempts: z
    .int()
    .min(1)
    .max(100)
    .default(8)
    .describe('Attempts in place, the first included, before the next step.'),
  initialDelayMs: millis(0, 3_600_000)
    .default(500)
    .describe('Wait before the second attempt; it grows exponentially with jitter.'),
  maxDelayMs: millis(0, 3_600_000).default(60_000).describe('Longest wait between two attempts.'),
  ordering: z
    .enum(['key', 'none'])
    .default('key')
    .describe(
      '`key`: events of one partition key arrive in order (a failing event holds its key, never others); ' +
        '`none`: a failing event moves to delayed retries and later events of its key go on.',
    ),
  delayedRetriesMs: z
    .array(millis(1, 86_400_000))
    .max(10)
    .default([60_000, 600_000])
    .describe('With ordering `none`: delays of the delayed retries, after the attempts in place.'),
  ratePerSecond: z
    .number()
    .min(0.1)
    .max(100_000)
    .optional()
    .describe(
      'Requests per second to the endpoint at most (every attempt counts, replays too); none: no limit. ' +
        'A limited subscription waits for its turn and never slows another.',
    ),
  rateBurst: z
    .int()
    .min(1)
    .max(100_000)
    .optional()
    .describe('Requests that may go at once after a quiet spell; default one second of `ratePerSecond`.'),
});

/** What a caller gives to create (or replace) a subscription. */
export const subscriptionSpecSchema = z.strictObject({
  url: endpointUrlSchema.describe('Endpoint the events are POSTed to (http or https).'),
  secret: signingSecretSchema.describe('Standard Webhooks signing secret, `whsec_<base64>`.'),
  filter: subscriptionFilterSchema.default({}),
  mode: z
    .enum(['binary', 'structured'])
    .default('binary')
    .describe(
      'CloudEvents HTTP binding mode: `ce-*` headers and the data as body, or the whole event as JSON.',
    ),
  policy: deliveryPolicySchema.default(() => deliveryPolicySchema.parse({})),
});

/** A subscription spec as given (defaults not yet applied). */
export type SubscriptionSpecInput = z.input<typeof subscriptionSpecSchema>;
/** A subscription spec with its defaults. */
export type SubscriptionSpec = z.output<typeof subscriptionSpecSchema>;
/** A subscription's filter. */
export type SubscriptionFilter = z.output<typeof subscriptionFilterSchema>;
/** A subscription's delivery policy. */
export type DeliveryPolicy = z.output<typeof deliveryPolicySchema>;

/** `active` delivers; `disabled` does not (by an operator, or because the endpoint answered 410 Gone). */
export type SubscriptionStatus = 'active' | 'disabled';

/** A stored subscription. */
export interface Subscription extends SubscriptionSpec {
  name: string;
  status: SubscriptionStatus;
  /** Why it is disabled, or undefined. */
  disabledReason: string | undefined;
  /** The consumer group delivering it (its dead letters live in this group's DLQ). */
  group: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  updatedAt: number;
}

/** The consumer group of a subscription. */
export function subscriptionGroup(name: string): string {
  return `keel.delivery.${name}`;
}
