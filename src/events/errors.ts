import { KeelError } from '../errors/keel-error.ts';
/** One broken rule: where (a path into the input) and which rule. */
export interface ValidationIssue {
  /** Dotted path to the offending field, e.g. `data.dateOfBirth`; empty for the whole value. */
  path: string;
  /** Short name of the rule broken, e.g. `required`, `invalid_format`, `too_big`. */
  rule: string;
  /** Human-readable explanation. */
  message: string;
}

/** Input that does not satisfy a schema or the CloudEvents specification. */
export class ValidationError extends KeelError {
  readonly code = 'KEEL_VALIDATION';
  /** Every issue found, not just the first. */
  readonly issues: readonly ValidationIssue[];
  /** Event type being validated, when known. */
  readonly eventType: string | undefined;

  constructor(message: string, issues: readonly ValidationIssue[], eventType?: string) {
    super(`${message}: ${issues.map((i) => `${i.path || '(root)'}: ${i.message} [${i.rule}]`).join('; ')}`);
    this.issues = issues;
    this.eventType = eventType;
  }
}

/** An event type that the catalog does not know and no default topic accepts. */
export class UnknownEventTypeError extends KeelError {
  readonly code = 'KEEL_UNKNOWN_EVENT_TYPE';
  readonly eventType: string;

  constructor(eventType: string) {
    super(`unknown event type "${eventType}": it is not in the catalog and untyped events are not allowed`);
    this.eventType = eventType;
  }
}

/** Why data could not be brought to the current version of its event type. */
export type UpcastFailure = 'invalid_version' | 'newer_version' | 'missing_upcaster' | 'upcaster_failed';

/** Data written at a version that cannot be upcast to the definition's current version. */
export class UpcastError extends KeelError {
  readonly code = 'KEEL_UPCAST';
  readonly eventType: string;
  /** Version the data was written at. */
  readonly fromVersion: number;
  /** Current version of the event type. */
  readonly toVersion: number;
  readonly reason: UpcastFailure;

  constructor(
    message: string,
    details: { eventType: string; fromVersion: number; toVersion: number; reason: UpcastFailure },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.eventType = details.eventType;
    this.fromVersion = details.fromVersion;
    this.toVersion = details.toVersion;
    this.reason = details.reason;
  }
}
