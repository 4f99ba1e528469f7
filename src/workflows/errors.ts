import { KeelError } from '../errors/keel-error.ts';
import type { ValidationIssue } from '../events/errors.ts';
import { type MigrationProblem, type SchemaComponent, SchemaError } from '../sql/schema-error.ts';

/** A transition refused because another process claimed the instance since: nothing was written. */
export class LeaseLostError extends KeelError {
  readonly code = 'KEEL_WORKFLOW_LEASE_LOST';
  readonly instanceId: string;
  /** The process that thought it held the lease. */
  readonly owner: string;
  /** The lease epoch it held. */
  readonly epoch: number;

  constructor(instanceId: string, owner: string, epoch: number) {
    super(
      `workflow instance "${instanceId}": ${owner} no longer holds its lease (epoch ${epoch}); another process runs it now`,
    );
    this.instanceId = instanceId;
    this.owner = owner;
    this.epoch = epoch;
  }
}

/** An instance id the engine's database does not know. */
export class WorkflowInstanceNotFoundError extends KeelError {
  readonly code = 'KEEL_WORKFLOW_INSTANCE_NOT_FOUND';
  readonly instanceId: string;

  constructor(instanceId: string) {
    super(`workflow instance "${instanceId}" does not exist`);
    this.instanceId = instanceId;
  }
}

/** A signal, cancel or resume sent to an instance that has ended. */
export class WorkflowInstanceEndedError extends KeelError {
  readonly code = 'KEEL_WORKFLOW_INSTANCE_ENDED';
  readonly instanceId: string;
  /** The terminal status. */
  readonly status: string;

  constructor(instanceId: string, status: string) {
    super(`workflow instance "${instanceId}" has ended (${status}); it takes no more signals`);
    this.instanceId = instanceId;
    this.status = status;
  }
}

/** A workflow id (or id and version) the engine has no definition for. */
export class UnknownWorkflowError extends KeelError {
  readonly code = 'KEEL_WORKFLOW_UNKNOWN';
  readonly workflowId: string;
  /** The version asked for; undefined when any would do. */
  readonly version: number | undefined;

  constructor(workflowId: string, version?: number) {
    super(
      `workflow "${workflowId}"${version === undefined ? '' : ` version ${version}`} is not registered with this engine; register its definition`,
    );
    this.workflowId = workflowId;
    this.version = version;
  }
}

/** Two different definitions registered under one id and version. */
export class WorkflowVersionConflictError extends KeelError {
  readonly code = 'KEEL_WORKFLOW_VERSION_CONFLICT';
  readonly workflowId: string;
  readonly version: number;

  constructor(workflowId: string, version: number) {
    super(
      `workflow "${workflowId}" version ${version} is already registered with a different definition; give the new one a new version`,
    );
    this.workflowId = workflowId;
    this.version = version;
  }
}

/** Input refused by the workflow's input schema; nothing was started. */
export class WorkflowInputError extends KeelError {
  readonly code = 'KEEL_WORKFLOW_INPUT';
  readonly workflowId: string;
  readonly issues: readonly ValidationIssue[];

  constructor(workflowId: string, issues: readonly ValidationIssue[]) {
    super(
      `workflow "${workflowId}": invalid input: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    );
    this.workflowId = workflowId;
    this.issues = issues;
  }
}

/** An instance id already used by an instance of another workflow. */
export class WorkflowInstanceIdTakenError extends KeelError {
  readonly code = 'KEEL_WORKFLOW_INSTANCE_ID_TAKEN';
  readonly instanceId: string;
  /** The workflow that asked for it. */
  readonly workflowId: string;

  constructor(instanceId: string, workflowId: string) {
    super(
      `workflow instance id "${instanceId}" is taken by an instance of another workflow; instance ids are unique across workflows`,
    );
    this.instanceId = instanceId;
    this.workflowId = workflowId;
  }
}

/** Thrown by an action (or compensation) whose failure no retry can cure: the step fails at once. */
export class NonRetryableError extends KeelError {
  readonly code: string;

  constructor(message: string, code = 'KEEL_WORKFLOW_NON_RETRYABLE', options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** An action aborted because its attempt timed out. */
export class StepTimeoutError extends KeelError {
  readonly code = 'KEEL_WORKFLOW_STEP_TIMEOUT';
  readonly step: string;
  /** The step's limit, in milliseconds. */
  readonly timeoutMs: number;

  constructor(step: string, timeoutMs: number) {
    super(`step "${step}" did not finish within ${timeoutMs} ms`);
    this.step = step;
    this.timeoutMs = timeoutMs;
  }
}

/** A call on an engine that was closed. */
export class WorkflowEngineClosedError extends KeelError {
  readonly code = 'KEEL_WORKFLOW_ENGINE_CLOSED';
  /** What was attempted, e.g. `start`. */
  readonly operation: string;

  constructor(operation: string) {
    super(`${operation}: the workflow engine is closed`);
    this.operation = operation;
  }
}

/** `waitForEnd` gave up before the instance ended. */
export class WorkflowWaitTimeoutError extends KeelError {
  readonly code = 'KEEL_WORKFLOW_WAIT_TIMEOUT';
  readonly instanceId: string;
  /** How long it waited, in milliseconds. */
  readonly timeoutMs: number;
  /** The instance's status when it gave up. */
  readonly status: string | undefined;

  constructor(instanceId: string, timeoutMs: number, status: string | undefined) {
    super(
      `workflow instance "${instanceId}" did not end within ${timeoutMs} ms (status ${status ?? 'unknown'})`,
    );
    this.instanceId = instanceId;
    this.timeoutMs = timeoutMs;
    this.status = status;
  }
}

/** Why the workflow schema cannot be used by this code. */
export type WorkflowSchemaProblem = MigrationProblem;

/** The workflow tables' schema, as their migrations name it in SchemaError. */
export const workflowSchema: SchemaComponent = { name: 'workflow', code: 'KEEL_WORKFLOW_SCHEMA' };

/** A workflow schema this code cannot vouch for (newer, or an edited migration): the one SchemaError. */
export const WorkflowSchemaError = SchemaError;
/** A workflow schema this code cannot vouch for. */
export type WorkflowSchemaError = SchemaError;
