export { murmur2, partitionForKey } from '../transport/partitioner.ts';
export type {
  DeadLetterEntry,
  DeadLetterFilter,
  DeadLetterQueue,
  DeadLetterQueueOptions,
  DeadLetterStatus,
} from './dead-letter/dead-letter-queue.ts';
export {
  createDeadLetterQueue,
  DeadLetterEntryClosedError,
  DeadLetterEntryNotFoundError,
} from './dead-letter/dead-letter-queue.ts';
export type { FailureInfo } from './dead-letter/failure-headers.ts';
export { deadLetterTopic, retryTopic } from './dead-letter/topic-names.ts';
export { atBatchIndex, batchIndexOf, EventTooLargeError } from './errors.ts';
export { currentHandlingContext, type HandlingContext, runInHandlingContext } from './handling-context.ts';
export type { Inbox } from './inbox/inbox.ts';
export { createSqliteInbox, type SqliteInbox, type SqliteInboxOptions } from './inbox/sqlite-inbox.ts';
export {
  type CircuitBreakerOptions,
  type CircuitBreakerState,
  circuitBreaker,
  type HandlerCircuitBreaker,
} from './middleware/circuit-breaker.ts';
export { correlation } from './middleware/correlation.ts';
export { dedupe } from './middleware/dedupe.ts';
export type { HandlerContext } from './middleware/handler-context.ts';
export { metrics as metricsMiddleware } from './middleware/metrics.ts';
export { compose, type HandlerFunction, type Middleware } from './middleware/middleware.ts';
export { openPhi } from './middleware/open-phi.ts';
export { isRetryableByDefault, type RetryOptions, retry } from './middleware/retry.ts';
export { HandlerTimeoutError, timeout } from './middleware/timeout.ts';
export { type TracingOptions, tracing } from './middleware/tracing.ts';
export { checkEventData, validation } from './middleware/validation.ts';
export {
  createPublisher,
  DEFAULT_MAX_EVENT_BYTES,
  DEFAULT_PUBLISHER_CLOSE_DEADLINE_MS,
} from './publisher.ts';
export type {
  AnyPublishReceipt,
  BufferedReceipt,
  DecodedCloudEvent,
  EventSealer,
  Publisher,
  PublisherOptions,
  PublishOptions,
  PublishReceipt,
  PublishToOptions,
} from './publisher-port.ts';
export * from './publishing/index.ts';
export {
  createRouter,
  DEFAULT_CONCURRENCY,
  DEFAULT_RETRY_DELAYS_MS,
  DEFAULT_SHUTDOWN_DEADLINE_MS,
} from './router.ts';
export type {
  BatchHandler,
  BatchOptions,
  BreakerSettings,
  Handler,
  HandlerOptions,
  Router,
  RouterHealth,
  RouterOptions,
} from './router-port.ts';
export {
  CircuitBreakerStateChanged,
  DeadLetterDiscarded,
  DeadLetterRetried,
  SystemTopic,
} from './system-events.ts';
