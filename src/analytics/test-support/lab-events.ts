// Lab results and their reviews, the events of the pattern proofs, and rules over them.
import { z } from 'zod';
import { defineEvent } from '../../events/define-event.ts';
import { defineTopic } from '../../events/define-topic.ts';
import type { RuleSpec } from '../patterns/rule-spec.ts';

/** A lab result was recorded. */
export const LabResultRecorded = defineEvent({
  type: 'test.lab.result.recorded',
  version: 1,
  schema: z.object({ resultId: z.string(), patientId: z.string(), value: z.number() }),
  partitionKey: (data) => data.resultId,
});

/** A clinician reviewed a lab result. */
export const LabResultReviewed = defineEvent({
  type: 'test.lab.result.reviewed',
  version: 1,
  schema: z.object({ resultId: z.string(), reviewer: z.string() }),
  partitionKey: (data) => data.resultId,
});

/** The topic of lab events, named per test. */
export function labTopic(name: string) {
  return defineTopic({ name, partitions: 3, replication: 1, events: [LabResultRecorded, LabResultReviewed] });
}

/** Reviewed within 24 h (a sequence) and not reviewed within 24 h (an absence), keyed by result. */
export const reviewRules: RuleSpec[] = [
  {
    id: 'reviewed-in-time',
    kind: 'sequence',
    key: 'data.resultId',
    first: { type: LabResultRecorded.type },
    next: { type: LabResultReviewed.type, when: "data.reviewer != ''" },
    within: '24h',
  },
  {
    id: 'unreviewed-24h',
    kind: 'absence',
    key: 'data.resultId',
    first: { type: LabResultRecorded.type },
    missing: { type: LabResultReviewed.type },
    within: '24h',
  },
];
