import { z } from 'zod';
import { healthcareEvent } from '../define.ts';
import { id, instant } from './shared.ts';

// Keyed by task id: the events of one task stay in order, tasks spread over the partitions.
const task = { taskId: id, agentType: z.string().min(1) };

/** An AI agent was asked to do a task (summarise a chart, draft an appeal, find care gaps). */
export const AgentTaskRequested = healthcareEvent({
  type: 'healthcare.agent.task.requested',
  version: 1,
  description: 'An AI agent was asked to do a task; its input and who asked.',
  schema: z.object({
    ...task,
    patientId: id.optional(),
    input: z.record(z.string(), z.unknown()),
    requestedBy: z.string().optional(),
    deadline: instant.optional(),
  }),
  partitionKey: (data) => data.taskId,
  example: {
    taskId: 'task-8001',
    agentType: 'appeal-drafter',
    patientId: 'patient-123',
    input: { claimId: 'claim-555', denialCodes: ['CO-50'] },
    requestedBy: 'workflow:claim-appeal',
  },
});

/** An AI agent finished a task. */
export const AgentTaskCompleted = healthcareEvent({
  type: 'healthcare.agent.task.completed',
  version: 1,
  description: 'An AI agent finished a task; its result and how long it took.',
  schema: z.object({
    ...task,
    result: z.record(z.string(), z.unknown()),
    /** Milliseconds from request to result. */
    durationMs: z.number().int().nonnegative(),
  }),
  partitionKey: (data) => data.taskId,
  example: {
    taskId: 'task-8001',
    agentType: 'appeal-drafter',
    result: { appealLetter: 'Dear reviewer, ...' },
    durationMs: 5400,
  },
});

/** An AI agent failed a task. */
export const AgentTaskFailed = healthcareEvent({
  type: 'healthcare.agent.task.failed',
  version: 1,
  description: 'An AI agent failed a task; the error and whether trying again may help.',
  schema: z.object({
    ...task,
    error: z.object({ code: z.string().min(1), message: z.string() }),
    retryable: z.boolean(),
  }),
  partitionKey: (data) => data.taskId,
  example: {
    taskId: 'task-8001',
    agentType: 'appeal-drafter',
    error: { code: 'model-timeout', message: 'no answer within 30 s' },
    retryable: true,
  },
});

/** Every agent event type. */
export const agentEvents = [AgentTaskRequested, AgentTaskCompleted, AgentTaskFailed] as const;
