import { KeelError } from '../../errors/keel-error.ts';
import type { ValidationIssue } from '../../events/errors.ts';

/** Where in a request a bad value was found. */
export type RequestPart = 'params' | 'query' | 'body';

/** A request whose path parameters, query or body break the route's schema; nothing was done. */
export class RequestInvalidError extends KeelError {
  readonly code = 'KEEL_API_REQUEST_INVALID';
  /** Every rule broken, each path starting with the part (`query.limit`, `body.to`). */
  readonly issues: readonly ValidationIssue[];
  /** 400 for a malformed request, 422 for a well-formed one that cannot be acted on. */
  readonly status: 400 | 422;

  constructor(issues: readonly ValidationIssue[], status: 400 | 422 = 400) {
    super(`invalid request: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`);
    this.issues = issues;
    this.status = status;
  }
}

/** A resource named by the request does not exist. */
export class ResourceNotFoundError extends KeelError {
  readonly code = 'KEEL_API_NOT_FOUND';
  /** Kind of resource, e.g. `topic`, `job`. */
  readonly resource: string;
  /** The name or id asked for. */
  readonly key: string;
  /** The request field that named it, e.g. `params.topic`. */
  readonly field: string;

  constructor(resource: string, key: string, field: string) {
    super(`${resource} "${key}" does not exist`);
    this.resource = resource;
    this.key = key;
    this.field = field;
  }
}

/** The request is valid but conflicts with the resource's current state (e.g. a finished job, a live group). */
export class ResourceConflictError extends KeelError {
  readonly code = 'KEEL_API_CONFLICT';
  /** The request field the conflict is about, when there is one. */
  readonly field: string | undefined;

  constructor(message: string, field?: string) {
    super(message);
    this.field = field;
  }
}

/** The node's configuration forbids the operation (e.g. export with `KEEL_EXPORT_ENABLED=false`). */
export class OperationForbiddenError extends KeelError {
  readonly code = 'KEEL_API_FORBIDDEN';
  /** The configuration key that forbids it, e.g. `KEEL_EXPORT_ENABLED`. */
  readonly setting: string;

  constructor(message: string, setting: string) {
    super(message);
    this.setting = setting;
  }
}

/** The request body is in a media type the operation does not read. */
export class UnsupportedMediaTypeError extends KeelError {
  readonly code = 'KEEL_API_UNSUPPORTED_MEDIA_TYPE';
  /** Media types the operation reads. */
  readonly accepted: readonly string[];

  constructor(found: string | undefined, accepted: readonly string[]) {
    super(`cannot read a body of type ${JSON.stringify(found ?? '(none)')}: send ${accepted.join(' or ')}`);
    this.accepted = accepted;
  }
}
