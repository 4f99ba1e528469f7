import type { Logger } from 'pino';
import { z } from 'zod';
import { parseOptions } from '../../errors/options.ts';
import type { Catalog } from '../../events/catalog.ts';
import type { KeelMetrics } from '../../observability/metrics.ts';
import type { StartFrom, Transport } from '../../transport/transport.ts';
import type { Inbox } from '../inbox/inbox.ts';
import type { Middleware } from '../middleware/middleware.ts';
import { isRetryableByDefault, type RetryOptions } from '../middleware/retry.ts';
import type { BreakerSettings, RouterOptions } from '../router-port.ts';

/** Default most events handled at once. */
export const DEFAULT_CONCURRENCY = 64;
/** Default milliseconds `close` waits for in-flight handlers. */
export const DEFAULT_SHUTDOWN_DEADLINE_MS = 30_000;
/** Default delays of the delayed-retry topics, in milliseconds: 1 s, 10 s, 1 min. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [1_000, 10_000, 60_000];

const isObject = (value: unknown) => typeof value === 'object' && value !== null;
const object = <T>(what: string) => z.custom<T>(isObject, { error: `expected ${what}` });
const fn = <T>() => z.custom<T>((value) => typeof value === 'function', { error: 'expected a function' });
const int = (min: number, what: string) =>
  z.int({ error: `expected ${what}` }).min(min, { error: `expected ${what}` });
const millis = int(0, 'milliseconds ≥ 0');

/** Router options with their defaults (see RouterOptions for what each one does). */
export const routerOptionsSchema = z.object({
  transport: object<Transport>('a transport'),
  catalog: object<Catalog>('a catalog'),
  group: z.string().regex(/^[a-zA-Z0-9._-]{1,200}$/, {
    error: "must be 1-200 letters, digits, '.', '_' or '-' (it names topics)",
  }),
  startFrom: z.enum(['earliest', 'latest']).default('earliest' satisfies StartFrom),
  concurrency: int(1, 'an integer ≥ 1').default(DEFAULT_CONCURRENCY),
  metrics: object<KeelMetrics>('a metrics registry').optional(),
  logger: object<Logger>('a pino logger').optional(),
  sessionTimeoutMs: int(1, 'milliseconds ≥ 1').default(10_000),
  commitIntervalMs: millis.default(100),
  middleware: z.array(fn<Middleware>()).readonly().default([]),
  retry: z.union([z.literal(false), object<RetryOptions>('retry options or false')]).default({}),
  delayedRetries: z.array(millis).readonly().default(DEFAULT_RETRY_DELAYS_MS),
  onDeadLetter: z.enum(['park', 'continue']).default('park'),
  isRetryable: fn<(error: unknown) => boolean>().default(() => isRetryableByDefault),
  timeoutMs: millis.optional(),
  circuitBreaker: z
    .union([z.literal(false), object<BreakerSettings>('breaker settings or false')])
    .optional(),
  inbox: object<Inbox>('an inbox').optional(),
  validate: z.boolean().default(true),
  tracing: z.boolean().default(true),
  lagIntervalMs: int(1, 'milliseconds ≥ 1').default(5_000),
  shutdownSignals: z.array(z.string()).readonly().default(['SIGTERM', 'SIGINT']),
});

/** Router options as the router uses them: checked, with every default filled in. */
export type RouterSettings = z.output<typeof routerOptionsSchema> & {
  shutdownSignals: readonly NodeJS.Signals[];
};

/** Checks router options once, at `createRouter`; an OptionsError names each broken key (`router.<key>`). */
export function parseRouterOptions(options: RouterOptions): RouterSettings {
  return parseOptions(routerOptionsSchema, options, 'router') as RouterSettings;
}

/** How batches of `onBatch` are formed, with their defaults (see BatchOptions). */
export const batchOptionsSchema = z.object({
  maxEvents: int(1, 'an integer ≥ 1').default(100),
  maxWaitMs: millis.default(50),
});
