import { z } from 'zod';
import { healthcareEvent } from '../define.ts';
import { id, instant } from './shared.ts';

// Journey events are keyed by journey id, not patient id: their topic is compacted, and compaction keeps the
// newest event per key, so a patient's several journeys each keep their latest state.
const journeyRef = { journeyId: id, patientId: id };

/** A patient entered a care journey (e.g. post-discharge heart failure follow-up). */
export const JourneyStarted = healthcareEvent({
  type: 'healthcare.journey.started',
  version: 1,
  description: 'A patient entered a care journey, at its first stage.',
  schema: z.object({
    ...journeyRef,
    journeyType: z.string().min(1),
    stage: z.string().min(1),
    startedAt: instant,
  }),
  partitionKey: (data) => data.journeyId,
  example: {
    journeyId: 'journey-42',
    patientId: 'patient-123',
    journeyType: 'heart-failure-follow-up',
    stage: 'discharge',
    startedAt: '2024-12-05T11:05:00Z',
  },
});

/** A stage of a care journey was completed. */
export const JourneyStageCompleted = healthcareEvent({
  type: 'healthcare.journey.stage-completed',
  version: 1,
  description: 'A stage of a care journey was completed; the next stage when there is one.',
  schema: z.object({
    ...journeyRef,
    stage: z.string().min(1),
    nextStage: z.string().min(1).optional(),
    completedAt: instant,
  }),
  partitionKey: (data) => data.journeyId,
  example: {
    journeyId: 'journey-42',
    patientId: 'patient-123',
    stage: 'discharge',
    nextStage: 'seven-day-check-in',
    completedAt: '2024-12-05T12:00:00Z',
  },
});

/** A care journey ended. */
export const JourneyCompleted = healthcareEvent({
  type: 'healthcare.journey.completed',
  version: 1,
  description: 'A care journey ended, with its outcome.',
  schema: z.object({
    ...journeyRef,
    outcome: z.enum(['completed', 'withdrawn', 'escalated', 'expired']),
    completedAt: instant,
  }),
  partitionKey: (data) => data.journeyId,
  example: {
    journeyId: 'journey-42',
    patientId: 'patient-123',
    outcome: 'completed',
    completedAt: '2025-01-05T12:00:00Z',
  },
});

/** A journey rule fired an action (a reminder, a call, a task for the care team). */
export const JourneyActionTriggered = healthcareEvent({
  type: 'healthcare.journey.action-triggered',
  version: 1,
  description: 'A care journey fired an action: a reminder, an outreach call, a task for the care team.',
  schema: z.object({
    ...journeyRef,
    action: z.string().min(1),
    stage: z.string().min(1),
    channel: z.enum(['sms', 'email', 'phone', 'portal', 'task']).optional(),
    triggeredAt: instant,
  }),
  partitionKey: (data) => data.journeyId,
  example: {
    journeyId: 'journey-42',
    patientId: 'patient-123',
    action: 'send-medication-reminder',
    stage: 'seven-day-check-in',
    channel: 'sms',
    triggeredAt: '2024-12-12T09:00:00Z',
  },
});

/** Every journey event type. */
export const journeyEvents = [
  JourneyStarted,
  JourneyStageCompleted,
  JourneyCompleted,
  JourneyActionTriggered,
] as const;
