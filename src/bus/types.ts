// Deprecated: the former grab-bag of bus types, kept only as a re-export so code not yet moved to the
// ports compiles. Import from `publisher-port.ts`, `router-port.ts` or `middleware/handler-context.ts`.
export type { HandlerContext } from './middleware/handler-context.ts';
export type {
  AnyPublishReceipt,
  BufferedReceipt,
  DecodedCloudEvent,
  Publisher,
  PublisherOptions,
  PublishOptions,
  PublishReceipt,
  PublishToOptions,
  PublishTransaction,
  RequestOptions,
  StagedEvent,
  TransactionResult,
  TypedRequestOptions,
} from './publisher-port.ts';
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
