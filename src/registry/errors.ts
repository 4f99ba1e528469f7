import { KeelError } from '../errors/keel-error.ts';
import type { SchemaComponent } from '../sql/schema-error.ts';

/**
 * Every error the registry refuses a request with: its own `code`, plus Confluent's `errorCode` and HTTP
 * status, so the REST API answers as Confluent's registry does and its clients recognise the refusal.
 */
export abstract class RegistryError extends KeelError {
  /** Confluent's `error_code`, e.g. 40401. */
  abstract readonly errorCode: number;
  /** The HTTP status Confluent answers with. */
  abstract readonly status: number;
}

/** A subject with no versions (or only soft-deleted ones, unless those were asked for). */
export class SubjectNotFoundError extends RegistryError {
  readonly code = 'KEEL_REGISTRY_SUBJECT_NOT_FOUND';
  readonly errorCode = 40401;
  readonly status = 404;
  readonly subject: string;

  constructor(subject: string) {
    super(`Subject '${subject}' not found.`);
    this.subject = subject;
  }
}

/** A version the subject does not have. */
export class VersionNotFoundError extends RegistryError {
  readonly code = 'KEEL_REGISTRY_VERSION_NOT_FOUND';
  readonly errorCode = 40402;
  readonly status = 404;
  readonly subject: string;
  readonly version: number | string;

  constructor(subject: string, version: number | string) {
    super(`Version ${version} not found for subject '${subject}'.`);
    this.subject = subject;
    this.version = version;
  }
}

/** A schema id the registry never gave, or a schema not registered under the subject asked about. */
export class SchemaNotFoundError extends RegistryError {
  readonly code = 'KEEL_REGISTRY_SCHEMA_NOT_FOUND';
  readonly errorCode = 40403;
  readonly status = 404;

  constructor(what: string) {
    super(`Schema not found: ${what}.`);
  }
}

/** Hard delete of a subject that was not soft-deleted first. */
export class SubjectNotSoftDeletedError extends RegistryError {
  readonly code = 'KEEL_REGISTRY_SUBJECT_NOT_SOFT_DELETED';
  readonly errorCode = 40405;
  readonly status = 404;
  readonly subject: string;

  constructor(subject: string) {
    super(`Subject '${subject}' was not deleted first before being permanently deleted.`);
    this.subject = subject;
  }
}

/** Hard delete of a version that was not soft-deleted first. */
export class VersionNotSoftDeletedError extends RegistryError {
  readonly code = 'KEEL_REGISTRY_VERSION_NOT_SOFT_DELETED';
  readonly errorCode = 40407;
  readonly status = 404;
  readonly subject: string;
  readonly version: number;

  constructor(subject: string, version: number) {
    super(`Subject '${subject}' Version ${version} was not deleted first before being permanently deleted.`);
    this.subject = subject;
    this.version = version;
  }
}

/** A subject without a compatibility level of its own, asked for without falling back to the global one. */
export class SubjectCompatibilityNotConfiguredError extends RegistryError {
  readonly code = 'KEEL_REGISTRY_COMPATIBILITY_NOT_CONFIGURED';
  readonly errorCode = 40408;
  readonly status = 404;

  constructor(subject: string) {
    super(`Subject '${subject}' does not have subject-level compatibility configured.`);
  }
}

/** A schema that does not parse as its type, or whose references cannot be resolved; nothing was registered. */
export class InvalidSchemaError extends RegistryError {
  readonly code = 'KEEL_REGISTRY_INVALID_SCHEMA';
  readonly errorCode = 42201;
  readonly status = 422;

  constructor(message: string, options?: ErrorOptions) {
    super(`Invalid schema: ${message}`, options);
  }
}

/** A version that is neither a positive integer nor `latest`. */
export class InvalidVersionError extends RegistryError {
  readonly code = 'KEEL_REGISTRY_INVALID_VERSION';
  readonly errorCode = 42202;
  readonly status = 422;

  constructor(version: string) {
    super(
      `The specified version '${version}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
    );
  }
}

/** A compatibility level or mode that is not one of Confluent's. */
export class InvalidCompatibilityLevelError extends RegistryError {
  readonly code = 'KEEL_REGISTRY_INVALID_COMPATIBILITY';
  readonly errorCode = 42203;
  readonly status = 422;

  constructor(value: string, allowed: readonly string[]) {
    super(`Invalid compatibility level '${value}'. Valid values are: ${allowed.join(', ')}`);
  }
}

/** A request the registry's mode does not allow (writes while READONLY). */
export class OperationNotPermittedError extends RegistryError {
  readonly code = 'KEEL_REGISTRY_OPERATION_NOT_PERMITTED';
  readonly errorCode = 42205;
  readonly status = 422;

  constructor(message: string) {
    super(message);
  }
}

/** A version another schema still references: it cannot be deleted. */
export class ReferenceExistsError extends RegistryError {
  readonly code = 'KEEL_REGISTRY_REFERENCE_EXISTS';
  readonly errorCode = 42206;
  readonly status = 422;

  constructor(subject: string, version: number, referencedBy: readonly string[]) {
    super(
      `One or more references exist to the schema {subject=${subject}, version=${version}}: ${referencedBy.join(', ')}`,
    );
  }
}

/** One reason a schema cannot be used with another: the rule broken, where, and what changed. */
export interface Incompatibility {
  /** The rule, e.g. `READER_FIELD_MISSING_DEFAULT_VALUE` (Avro) or `TYPE_NARROWED` (JSON Schema). */
  rule: string;
  /** JSON pointer into the schema where the change is, e.g. `/fields/email` or `/properties/age/type`. */
  path: string;
  /** What changed, in a sentence. */
  message: string;
  /** Which version of the subject it was checked against, and in which direction. */
  against?: { version: number; direction: 'reads' | 'is read by' };
}

/** A schema refused by the subject's compatibility level; nothing was registered. */
export class IncompatibleSchemaError extends RegistryError {
  readonly code = 'KEEL_REGISTRY_INCOMPATIBLE_SCHEMA';
  readonly errorCode = 409;
  readonly status = 409;
  readonly subject: string;
  readonly level: string;
  readonly incompatibilities: readonly Incompatibility[];

  constructor(subject: string, level: string, incompatibilities: readonly Incompatibility[]) {
    super(
      `Schema being registered is incompatible with an earlier schema for subject "${subject}" (${level}): ${incompatibilities.map(describeIncompatibility).join('; ')}`,
    );
    this.subject = subject;
    this.level = level;
    this.incompatibilities = incompatibilities;
  }
}

/** One incompatibility as a line: `version 2 (new schema reads it): READER_FIELD_MISSING_DEFAULT_VALUE at /fields/email: ...`. */
export function describeIncompatibility(issue: Incompatibility): string {
  const against =
    issue.against === undefined
      ? ''
      : `version ${issue.against.version} (the new schema ${issue.against.direction === 'reads' ? 'reads data written with it' : 'writes data it must read'}): `;
  return `${against}${issue.rule} at ${issue.path === '' ? '/' : issue.path}: ${issue.message}`;
}

/** The registry's tables. */
export const registrySchema: SchemaComponent = { name: 'schema registry', code: 'KEEL_REGISTRY_SCHEMA' };
