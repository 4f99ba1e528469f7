import { z } from 'zod';
import type { HistoryEntry, WorkflowInstanceView } from '../../workflows/engine-types.ts';

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

const errorSchema = z
  .object({ name: z.string(), message: z.string(), code: z.string().optional() })
  .nullable()
  .describe('The error, or null.');

const attemptSchema = z.object({
  attempt: z.int().describe('From 1.'),
  startedAt: z.iso.datetime().nullable(),
  endedAt: z.iso.datetime().nullable().describe('When it completed or failed; null while it runs.'),
  outcome: z.enum(['running', 'completed', 'failed']),
  durationMs: z.number().nullable(),
  reason: z.string().nullable().describe('Why it failed: `error`, `timeout`, `reply` or `interrupted`.'),
  error: errorSchema,
  output: z.unknown().describe('What it returned (completed attempts).'),
  retryAt: z.iso
    .datetime()
    .nullable()
    .describe('When the next attempt is due, after a failure that is not final.'),
});

const compensationAttemptSchema = z.object({
  attempt: z.int(),
  at: z.iso.datetime(),
  outcome: z.enum(['compensated', 'failed']),
  error: errorSchema,
  retryAt: z.iso.datetime().nullable(),
});

/** JSON shape of one step in a timeline. */
const timelineStepSchema = z.object({
  name: z.string(),
  status: z.string().describe('`pending`, `started`, `completed`, `failed`, `compensated`, ...'),
  output: z.unknown(),
  attempts: z.array(attemptSchema),
  compensation: z.array(compensationAttemptSchema).describe('Attempts to undo the step, oldest first.'),
});

const timerSchema = z.object({
  kind: z.enum(['sleep', 'step-timeout', 'retry', 'compensation-retry', 'sla', 'timeout']),
  step: z.string().nullable(),
  dueAt: z.iso.datetime(),
  setAt: z.iso.datetime().describe('When the history recorded it.'),
});

const signalSchema = z.object({
  seq: z.int(),
  name: z.string(),
  payload: z.unknown(),
  receivedAt: z.iso.datetime(),
  consumedBy: z.string().nullable().describe('The step that took it, or null while it waits.'),
});

/** JSON shape of an instance's timeline. */
export const timelineSchema = z.object({
  steps: z.array(timelineStepSchema),
  timers: z.array(timerSchema).describe('Every timer the instance set, in the order it set them.'),
  signals: z.array(signalSchema),
  history: z.array(
    z.object({ version: z.int(), type: z.string(), recordedAt: z.iso.datetime(), data: z.unknown() }),
  ),
});

type Timeline = z.input<typeof timelineSchema>;
type Data = Record<string, unknown> & { step?: string; attempt?: number };

function stepOf(steps: Map<string, Timeline['steps'][number]>, name: string) {
  let step = steps.get(name);
  if (step === undefined) {
    step = { name, status: 'pending', output: undefined, attempts: [], compensation: [] };
    steps.set(name, step);
  }
  return step;
}

/** Applies one history entry to the timeline being built. */
function apply(timeline: Timeline, steps: Map<string, Timeline['steps'][number]>, entry: HistoryEntry): void {
  const data = (entry.data ?? {}) as Data;
  const at = new Date(entry.recordedAt).toISOString();
  const step = data.step === undefined ? undefined : stepOf(steps, data.step);
  const timer = (kind: z.infer<typeof timerSchema>['kind'], due: unknown) => {
    if (typeof due === 'number')
      timeline.timers.push({ kind, step: data.step ?? null, dueAt: iso(due)!, setAt: at });
  };
  const attempt = () => step?.attempts.find((a) => a.attempt === data.attempt);
  switch (entry.type) {
    case 'keel.workflow.started':
      timer('sla', data.slaDeadline);
      timer('timeout', data.deadline);
      break;
    case 'keel.workflow.step.started':
      step?.attempts.push({
        attempt: data.attempt ?? 0,
        startedAt: iso(data.startedAt as number | undefined),
        endedAt: null,
        outcome: 'running',
        durationMs: null,
        reason: null,
        error: null,
        output: undefined,
        retryAt: null,
      });
      timer('sleep', data.wakeAt);
      timer('step-timeout', data.timeoutAt);
      break;
    case 'keel.workflow.step.completed':
      Object.assign(attempt() ?? {}, {
        outcome: 'completed',
        endedAt: at,
        durationMs: data.durationMs ?? null,
        output: data.output,
      });
      if (typeof data.signalSeq === 'number') {
        const signal = timeline.signals.find((s) => s.seq === data.signalSeq);
        if (signal !== undefined) signal.consumedBy = data.step ?? null;
      }
      break;
    case 'keel.workflow.step.failed':
      Object.assign(attempt() ?? {}, {
        outcome: 'failed',
        endedAt: at,
        durationMs: data.durationMs ?? null,
        reason: data.reason ?? null,
        error: data.error ?? null,
        retryAt: iso(data.retryAt as number | undefined),
      });
      timer('retry', data.retryAt);
      break;
    case 'keel.workflow.signal.received':
      timeline.signals.push({
        seq: data.seq as number,
        name: String(data.name),
        payload: data.payload,
        receivedAt: at,
        consumedBy: null,
      });
      break;
    case 'keel.workflow.step.compensated':
      step?.compensation.push({
        attempt: data.attempt ?? 0,
        at,
        outcome: 'compensated',
        error: null,
        retryAt: null,
      });
      break;
    case 'keel.workflow.compensation.failed':
      step?.compensation.push({
        attempt: data.attempt ?? 0,
        at,
        outcome: 'failed',
        error: (data.error as Timeline['steps'][number]['compensation'][number]['error']) ?? null,
        retryAt: iso(data.retryAt as number | undefined),
      });
      timer('compensation-retry', data.retryAt);
      break;
  }
}

/**
 * An instance's timeline from its history: each step's attempts (start, end, outcome, error, output), the
 * attempts to compensate it, every timer it set (sleeps, step time-outs, retries, the SLA and the
 * instance's time-out) and the signals it received, with the step that took each.
 */
export function instanceTimeline(view: WorkflowInstanceView): Timeline {
  const timeline: Timeline = { steps: [], timers: [], signals: [], history: [] };
  const steps = new Map<string, Timeline['steps'][number]>();
  for (const step of view.steps) stepOf(steps, step.name);
  for (const entry of view.history) apply(timeline, steps, entry);
  for (const step of view.steps) {
    const built = stepOf(steps, step.name);
    built.status = step.status;
    built.output = step.output;
  }
  timeline.steps = [...steps.values()];
  timeline.history = view.history.map((entry) => ({
    version: entry.version,
    type: entry.type,
    recordedAt: new Date(entry.recordedAt).toISOString(),
    data: entry.data,
  }));
  return timeline;
}
