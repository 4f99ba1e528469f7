import { z } from 'zod';
import { defineEvent } from '../events/define-event.ts';
import { defineTopic } from '../events/define-topic.ts';

// The history of an instance, one event type per transition. Times are milliseconds since the epoch;
// inputs, outputs and payloads are JSON as the steps produced them.

const errorInfo = z.object({
  name: z.string(),
  message: z.string(),
  code: z.string().optional(),
});

/** An error as the history keeps it. */
export type ErrorInfo = z.output<typeof errorInfo>;

const instanceKey = (data: { instanceId: string }) => data.instanceId;

/** An instance was started on a definition version. */
export const WorkflowStarted = defineEvent({
  type: 'keel.workflow.started',
  version: 1,
  description: 'A workflow instance was started.',
  schema: z.object({
    instanceId: z.string(),
    workflowId: z.string(),
    workflowVersion: z.number().int(),
    input: z.unknown(),
    correlationId: z.string(),
    /** Event that triggered the instance, if a trigger did. */
    causationId: z.string().optional(),
    startedAt: z.number(),
    /** SLA deadline, ms since the epoch. */
    slaDeadline: z.number().optional(),
    /** Time-out, ms since the epoch. */
    deadline: z.number().optional(),
  }),
  partitionKey: instanceKey,
});

/** A step attempt began (or began again after a crash: `run` > 1). */
export const StepStarted = defineEvent({
  type: 'keel.workflow.step.started',
  version: 1,
  description: 'A workflow step attempt started.',
  schema: z.object({
    instanceId: z.string(),
    step: z.string(),
    index: z.number().int(),
    attempt: z.number().int(),
    /** Executions within this attempt: above 1 when a crash interrupted an earlier one. */
    run: z.number().int(),
    startedAt: z.number(),
    /** When the attempt times out, ms since the epoch. */
    timeoutAt: z.number().optional(),
    /** Id of the command event a command step publishes (its replies' correlation key). */
    commandId: z.string().optional(),
    /** When a sleep step ends, ms since the epoch. */
    wakeAt: z.number().optional(),
  }),
  partitionKey: instanceKey,
});

/** A command step's command is on the bus. */
export const CommandPublished = defineEvent({
  type: 'keel.workflow.command.published',
  version: 1,
  description: "A workflow step's command event was published.",
  schema: z.object({
    instanceId: z.string(),
    step: z.string(),
    index: z.number().int(),
    attempt: z.number().int(),
    commandId: z.string(),
    commandType: z.string(),
  }),
  partitionKey: instanceKey,
});

/** A step finished; its output is passed on. */
export const StepCompleted = defineEvent({
  type: 'keel.workflow.step.completed',
  version: 1,
  description: 'A workflow step completed.',
  schema: z.object({
    instanceId: z.string(),
    step: z.string(),
    index: z.number().int(),
    attempt: z.number().int(),
    output: z.unknown(),
    /** Milliseconds the attempt took. */
    durationMs: z.number(),
    /** Sequence of the signal a signal step consumed. */
    signalSeq: z.number().int().optional(),
  }),
  partitionKey: instanceKey,
});

/** A step attempt failed; `final` means no retry is left. */
export const StepFailed = defineEvent({
  type: 'keel.workflow.step.failed',
  version: 1,
  description: 'A workflow step attempt failed.',
  schema: z.object({
    instanceId: z.string(),
    step: z.string(),
    index: z.number().int(),
    attempt: z.number().int(),
    reason: z.enum(['error', 'timeout', 'reply', 'interrupted']),
    error: errorInfo,
    /** Milliseconds the attempt took. */
    durationMs: z.number(),
    final: z.boolean(),
    /** When the next attempt is due, ms since the epoch (absent when final). */
    retryAt: z.number().optional(),
  }),
  partitionKey: instanceKey,
});

/** A signal reached the instance. */
export const SignalReceived = defineEvent({
  type: 'keel.workflow.signal.received',
  version: 1,
  description: 'A workflow instance received a signal.',
  schema: z.object({
    instanceId: z.string(),
    /** Order of the signal within the instance, from 1. */
    seq: z.number().int(),
    name: z.string(),
    payload: z.unknown(),
  }),
  partitionKey: instanceKey,
});

/** An SLA deadline passed before the instance (or the step) finished. */
export const WorkflowSlaBreached = defineEvent({
  type: 'keel.workflow.sla.breached',
  version: 1,
  description: 'A workflow instance or step missed its SLA deadline.',
  schema: z.object({
    instanceId: z.string(),
    workflowId: z.string(),
    workflowVersion: z.number().int(),
    scope: z.enum(['workflow', 'step']),
    step: z.string().optional(),
    /** The deadline missed, ms since the epoch. */
    deadline: z.number(),
    /** When the breach was noticed, ms since the epoch. */
    detectedAt: z.number(),
  }),
  partitionKey: instanceKey,
});

/** The saga began undoing its completed steps, in reverse order. */
export const CompensationStarted = defineEvent({
  type: 'keel.workflow.compensation.started',
  version: 1,
  description: 'A workflow instance started compensating its completed steps.',
  schema: z.object({
    instanceId: z.string(),
    reason: z.enum(['failed', 'timed_out', 'cancelled']),
    /** Indexes of the steps to compensate, in the order they will be compensated. */
    steps: z.array(z.number().int()),
    failedStep: z.string().optional(),
    error: errorInfo.optional(),
    detail: z.string().optional(),
  }),
  partitionKey: instanceKey,
});

/** A completed step was undone. */
export const StepCompensated = defineEvent({
  type: 'keel.workflow.step.compensated',
  version: 1,
  description: 'A workflow step was compensated.',
  schema: z.object({
    instanceId: z.string(),
    step: z.string(),
    index: z.number().int(),
    attempt: z.number().int(),
    /** Milliseconds the compensation took. */
    durationMs: z.number(),
  }),
  partitionKey: instanceKey,
});

/** A compensation attempt failed; `final` means the instance now needs an operator. */
export const CompensationFailed = defineEvent({
  type: 'keel.workflow.compensation.failed',
  version: 1,
  description: 'A workflow compensation attempt failed.',
  schema: z.object({
    instanceId: z.string(),
    step: z.string(),
    index: z.number().int(),
    attempt: z.number().int(),
    error: errorInfo,
    final: z.boolean(),
    /** When the next attempt is due, ms since the epoch (absent when final). */
    retryAt: z.number().optional(),
  }),
  partitionKey: instanceKey,
});

/** A compensation kept failing: the instance waits for an operator (`engine.resume`). */
export const WorkflowNeedsOperator = defineEvent({
  type: 'keel.workflow.needs-operator',
  version: 1,
  description: 'A workflow instance needs an operator: a compensation kept failing.',
  schema: z.object({
    instanceId: z.string(),
    step: z.string(),
    error: errorInfo,
  }),
  partitionKey: instanceKey,
});

/** An operator asked the instance to try its failing compensation again. */
export const WorkflowResumed = defineEvent({
  type: 'keel.workflow.resumed',
  version: 1,
  description: 'An operator resumed a workflow instance.',
  schema: z.object({ instanceId: z.string(), detail: z.string().optional() }),
  partitionKey: instanceKey,
});

/** Every step completed. */
export const WorkflowCompleted = defineEvent({
  type: 'keel.workflow.completed',
  version: 1,
  description: 'A workflow instance completed.',
  schema: z.object({
    instanceId: z.string(),
    /** Output of the last step. */
    output: z.unknown(),
    /** Milliseconds from start to completion. */
    durationMs: z.number(),
  }),
  partitionKey: instanceKey,
});

/** A step failed and the completed steps were compensated. */
export const WorkflowCompensated = defineEvent({
  type: 'keel.workflow.compensated',
  version: 1,
  description: 'A workflow instance failed and was compensated.',
  schema: z.object({
    instanceId: z.string(),
    failedStep: z.string().optional(),
    error: errorInfo.optional(),
    durationMs: z.number(),
  }),
  partitionKey: instanceKey,
});

/** A step failed and there was nothing to compensate. */
export const WorkflowFailed = defineEvent({
  type: 'keel.workflow.failed',
  version: 1,
  description: 'A workflow instance failed (nothing to compensate).',
  schema: z.object({
    instanceId: z.string(),
    failedStep: z.string(),
    error: errorInfo,
    durationMs: z.number(),
  }),
  partitionKey: instanceKey,
});

/** The instance's time-out passed; completed steps were compensated. */
export const WorkflowTimedOut = defineEvent({
  type: 'keel.workflow.timed-out',
  version: 1,
  description: 'A workflow instance timed out and was compensated.',
  schema: z.object({
    instanceId: z.string(),
    /** The time-out, ms since the epoch. */
    deadline: z.number(),
    durationMs: z.number(),
  }),
  partitionKey: instanceKey,
});

/** The instance was cancelled; completed steps were compensated. */
export const WorkflowCancelled = defineEvent({
  type: 'keel.workflow.cancelled',
  version: 1,
  description: 'A workflow instance was cancelled and compensated.',
  schema: z.object({
    instanceId: z.string(),
    detail: z.string().optional(),
    durationMs: z.number(),
  }),
  partitionKey: instanceKey,
});

/** Every event type of an instance's history. */
export const workflowHistoryEvents = [
  WorkflowStarted,
  StepStarted,
  CommandPublished,
  StepCompleted,
  StepFailed,
  SignalReceived,
  WorkflowSlaBreached,
  CompensationStarted,
  StepCompensated,
  CompensationFailed,
  WorkflowNeedsOperator,
  WorkflowResumed,
  WorkflowCompleted,
  WorkflowCompensated,
  WorkflowFailed,
  WorkflowTimedOut,
  WorkflowCancelled,
] as const;

/**
 * Topic the engine publishes SLA breaches on when it has a bus: add it to the bus catalog (the engine
 * creates it on the transport when missing). Keyed by instance id.
 */
export const WorkflowAlertsTopic = defineTopic({
  name: 'keel.workflows.alerts',
  partitions: 1,
  events: [WorkflowSlaBreached],
  description: 'Workflow SLA breaches.',
});
