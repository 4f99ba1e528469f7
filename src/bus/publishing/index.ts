// Publisher patterns: fire-and-forget, linger batching, request-reply, transactions, retry with a
// circuit breaker and the local durable buffer. The publisher itself is `../publisher.ts`.

export type {
  PublishTransaction,
  RequestOptions,
  StagedEvent,
  TransactionResult,
  TypedRequestOptions,
} from '../publisher-port.ts';
export {
  BufferFullError,
  BufferLockedError,
  NotARequestError,
  PublisherClosedError,
  PublisherOptionsError,
  PublishUnavailableError,
  RemoteError,
  RequestTimeoutError,
  TransactionClosedError,
  type UnavailableReason,
} from './errors.ts';
export type { LingerOptions } from './linger-batcher.ts';
export type { LocalBufferOptions } from './local-buffer.ts';
export {
  isRetryablePublishError,
  type PublishBreakerOptions,
  type PublishRetryOptions,
} from './publish-policy.ts';
export {
  createReplier,
  DEFAULT_REPLY_TOPIC,
  DEFAULT_REQUEST_TIMEOUT_MS,
  IN_REPLY_TO_EXTENSION,
  REPLY_TO_EXTENSION,
  REPLY_TOPIC_PARTITIONS,
  type Replier,
  ReplyErrorEvent,
} from './request-reply.ts';
