import { KeelError } from '../errors/keel-error.ts';

/** A request carried no identity, or one that does not hold (unknown, expired, revoked, badly signed). */
export class AuthenticationError extends KeelError {
  readonly code = 'KEEL_UNAUTHENTICATED';
  /** Why, in words safe to show the caller (never the credential itself). */
  readonly reason: string;

  constructor(reason: string, options?: ErrorOptions) {
    super(`not authenticated: ${reason}`, options);
    this.reason = reason;
  }
}

/**
 * An identity asked for something its roles or scopes do not allow. The message never says whether the thing
 * asked for exists.
 */
export class ForbiddenError extends KeelError {
  readonly code = 'KEEL_FORBIDDEN';
  /** The permission that was missing, e.g. `events:read`. */
  readonly permission: string;

  constructor(permission: string) {
    super(`forbidden: this identity does not hold ${permission} here`);
    this.permission = permission;
  }
}

/** An API key operation named a key that does not exist, or options that break its rules. */
export class ApiKeyError extends KeelError {
  readonly code = 'KEEL_API_KEY';
}
