import type { Logger } from 'pino';
import { appendPlacements } from '../../transport/append-events.ts';
import type { PublisherOptions } from '../publisher-port.ts';
import { createBufferFlusher } from './buffer-flusher.ts';
import { createLingerBatcher, type LingerBatcher, lingerOptionsSchema } from './linger-batcher.ts';
import { openLocalBuffer } from './local-buffer.ts';
import type { PlacedEvent } from './placed-event.ts';
import {
  breakerOptionsSchema,
  createPublishPolicy,
  isRetryablePublishError,
  type PublishPolicy,
  parseOptions,
  retryOptionsSchema,
} from './publish-policy.ts';
import { errorCode } from './receipts.ts';
import { createSendPipeline, type SendPipeline, type SendPipelineOptions } from './send-pipeline.ts';

/** How a publisher's placed events reach the transport: its retry/breaker policy and its send pipeline. */
export interface Delivery {
  policy: PublishPolicy;
  pipeline: SendPipeline;
}

/**
 * Builds a publisher's way to the transport from its options (validated here, once): the retry and
 * breaker policy, the local buffer and its flusher when configured, lingering when configured, and the
 * send pipeline over them.
 */
export function createDelivery(options: PublisherOptions, name: string, logger: Logger): Delivery {
  const { transport, metrics } = options;
  const retry = parseOptions(retryOptionsSchema, options.retry, 'retry');
  const breaker = parseOptions(breakerOptionsSchema, options.breaker, 'breaker');
  const linger =
    options.linger === undefined ? undefined : parseOptions(lingerOptionsSchema, options.linger, 'linger');
  const isRetryable = options.isRetryable ?? isRetryablePublishError;
  const policy = createPublishPolicy({ name, retry, breaker, isRetryable, metrics, logger });
  const batcher: LingerBatcher<PlacedEvent> | undefined =
    linger === undefined
      ? undefined
      : createLingerBatcher<PlacedEvent>({
          linger,
          append: (items) => policy.once(() => appendPlacements(transport, items)),
          splitOn: (error) => !policy.isRetryable(error) && !policy.isCircuitOpen(error),
        });
  const buffer = openBuffer(options, name, policy, logger);
  return { policy, pipeline: createSendPipeline({ transport, policy, buffer, linger: batcher, logger }) };
}

/** Opens the local buffer and its flusher, when the options ask for one; an earlier run's events go out first. */
function openBuffer(
  options: PublisherOptions,
  name: string,
  policy: PublishPolicy,
  logger: Logger,
): SendPipelineOptions['buffer'] {
  const { transport, metrics } = options;
  if (options.buffer === undefined) return undefined;
  const store = openLocalBuffer(options.buffer, { name, metrics });
  const flusher = createBufferFlusher({
    buffer: store,
    transport,
    policy,
    logger,
    onFlushed: (events) => {
      for (const event of events) metrics?.eventPublished.inc({ type: event.type, topic: event.topic });
    },
    onQuarantined: (events, error) => {
      for (const event of events) metrics?.publishErrors.inc({ type: event.type, reason: errorCode(error) });
    },
  });
  // A buffer left on disk by an earlier run goes out first, before anything published now.
  if (store.count() > 0) {
    logger.warn(
      { buffered: store.count(), buffer: store.path },
      'publish buffer holds events from an earlier run',
    );
    flusher.kick();
  }
  return { store, flusher };
}
