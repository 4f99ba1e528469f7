// Durable workflows: sagas with compensation, timers, waits on events and SLA tracking.
// The PostgreSQL backend lives behind its own entry point (`./postgres/index.ts`).
export type {
  ClaimedInstance,
  InstanceInsert,
  InstanceQuery,
  InstanceRow,
  InstanceWrite,
  Lease,
  RenewResult,
  SlaState,
  StatusCount,
  WorkflowBackend,
} from './backend.ts';
export { definitionKey } from './backend.ts';
export type {
  ActionStepSpec,
  CommandSpec,
  CommandStepSpec,
  CompensationContext,
  CompensationReason,
  ResolvedRetryPolicy,
  RetryPolicy,
  SignalStepSpec,
  SleepStepSpec,
  StepContext,
  StepKind,
  StepSpec,
  StepSpecBase,
  WorkflowDefinition,
  WorkflowInput,
  WorkflowSpec,
  WorkflowStep,
  WorkflowTrigger,
} from './define-workflow.ts';
export {
  command,
  DEFAULT_COMPENSATION_RETRY,
  DEFAULT_STEP_RETRY,
  defineWorkflow,
  trigger,
} from './define-workflow.ts';
export { createWorkflowEngine, DEFAULT_WORKFLOW_GROUP, workflowStreamId } from './engine.ts';
export type {
  HistoryEntry,
  ListOptions,
  StartOptions,
  StartResult,
  StepView,
  WorkflowBusOptions,
  WorkflowEngine,
  WorkflowEngineOptions,
  WorkflowInstanceSummary,
  WorkflowInstanceView,
} from './engine-types.ts';
export type { WorkflowSchemaProblem } from './errors.ts';
export {
  LeaseLostError,
  NonRetryableError,
  StepTimeoutError,
  UnknownWorkflowError,
  WorkflowEngineClosedError,
  WorkflowInputError,
  WorkflowInstanceEndedError,
  WorkflowInstanceIdTakenError,
  WorkflowInstanceNotFoundError,
  WorkflowSchemaError,
  WorkflowVersionConflictError,
  WorkflowWaitTimeoutError,
} from './errors.ts';
export type { WorkflowTransition } from './instance-driver.ts';
export type { StepStatus, WorkflowStatus } from './instance-state.ts';
export { TERMINAL_STATUSES } from './instance-state.ts';
export type { WorkflowMetrics } from './metrics.ts';
export { createWorkflowMetrics } from './metrics.ts';
export { slaStateOf } from './sla-condition.ts';
export type { SqliteWorkflowBackendOptions } from './sqlite/index.ts';
export { createSqliteWorkflowBackend } from './sqlite/index.ts';
export type { ErrorInfo } from './workflow-events.ts';
export {
  CommandPublished,
  CompensationFailed,
  CompensationStarted,
  SignalReceived,
  StepCompensated,
  StepCompleted,
  StepFailed,
  StepStarted,
  WorkflowAlertsTopic,
  WorkflowCancelled,
  WorkflowCompensated,
  WorkflowCompleted,
  WorkflowFailed,
  WorkflowNeedsOperator,
  WorkflowResumed,
  WorkflowSlaBreached,
  WorkflowStarted,
  WorkflowTimedOut,
  workflowHistoryEvents,
} from './workflow-events.ts';
