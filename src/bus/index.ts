export { atBatchIndex, batchIndexOf, EventTooLargeError } from './errors.ts';
export { murmur2, partitionForKey } from './partitioner.ts';
export { createPublisher, DEFAULT_MAX_EVENT_BYTES } from './publisher.ts';
export { createRouter, DEFAULT_CONCURRENCY, DEFAULT_SHUTDOWN_DEADLINE_MS } from './router.ts';
export type {
  Handler,
  HandlerContext,
  Publisher,
  PublisherOptions,
  PublishOptions,
  PublishReceipt,
  Router,
  RouterOptions,
} from './types.ts';
