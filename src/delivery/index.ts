// Push delivery of events to HTTP endpoints: subscriptions, their store, and the manager running them.
export {
  createDeliveryManager,
  type DeliveryManager,
  type DeliveryManagerOptions,
  type SubscriptionState,
} from './delivery-manager.ts';
export {
  type AttemptOutcome,
  type DeliveryAttempt,
  type DeliveryStore,
  openDeliveryStore,
} from './delivery-store.ts';
export type { EndpointState } from './endpoint-breakers.ts';
export {
  DeliveryFailedError,
  EndpointGoneError,
  SubscriptionExistsError,
  SubscriptionInvalidError,
  SubscriptionNotFoundError,
} from './errors.ts';
export type { ReplayProgress, ReplayRange } from './replay.ts';
export { signWebhook, type WebhookSignatureHeaders } from './signature.ts';
export {
  type DeliveryPolicy,
  type Subscription,
  type SubscriptionFilter,
  type SubscriptionSpec,
  type SubscriptionSpecInput,
  subscriptionGroup,
  subscriptionSpecSchema,
} from './subscription.ts';
