import { KeelError } from '../errors/keel-error.ts';

/** A subscription name that names no subscription. */
export class SubscriptionNotFoundError extends KeelError {
  readonly code = 'KEEL_SUBSCRIPTION_NOT_FOUND';
  readonly subscription: string;
  constructor(name: string) {
    super(`subscription "${name}" does not exist`);
    this.subscription = name;
  }
}

/** A subscription created under a name already taken. */
export class SubscriptionExistsError extends KeelError {
  readonly code = 'KEEL_SUBSCRIPTION_EXISTS';
  readonly subscription: string;
  constructor(name: string) {
    super(`subscription "${name}" already exists: replace it with PUT, or delete it first`);
    this.subscription = name;
  }
}

/** A subscription spec that breaks its schema; nothing was stored. */
export class SubscriptionInvalidError extends KeelError {
  readonly code = 'KEEL_SUBSCRIPTION_INVALID';
  /** Each broken rule, with the dotted path of the field (`url`, `filter.condition`). */
  readonly issues: readonly { path: string; message: string }[];
  constructor(issues: readonly { path: string; message: string }[]) {
    super(`invalid subscription: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`);
    this.issues = issues;
  }
}

/** The endpoint did not take the event: a non-2xx answer, a timeout or a network error. Retried by policy. */
export class DeliveryFailedError extends KeelError {
  readonly code = 'KEEL_DELIVERY_FAILED';
  /** HTTP status, or undefined when no answer came. */
  readonly status: number | undefined;
  readonly url: string;
  constructor(url: string, status: number | undefined, detail: string) {
    super(status === undefined ? `${url}: ${detail}` : `${url} answered ${status}: ${detail}`);
    this.status = status;
    this.url = url;
  }
}

/** The endpoint answered 410 Gone: the subscription is disabled and the event dead-lettered, not retried. */
export class EndpointGoneError extends KeelError {
  readonly code = 'KEEL_DELIVERY_ENDPOINT_GONE';
  readonly url: string;
  constructor(url: string) {
    super(`${url} answered 410 Gone: the subscription is disabled`);
    this.url = url;
  }
}
