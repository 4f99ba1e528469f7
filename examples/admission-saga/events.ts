import { z } from 'zod';
import { createCatalog } from '../../src/events/catalog.ts';
import { defineEvent } from '../../src/events/define-event.ts';
import { defineTopic } from '../../src/events/define-topic.ts';
import { WorkflowAlertsTopic } from '../../src/workflows/workflow-events.ts';

/** A clinician asked for a patient to be admitted to a ward: starts the admission saga. */
export const AdmissionRequested = defineEvent({
  type: 'healthcare.admission.requested',
  version: 1,
  description: 'A clinician asked for a patient to be admitted to a ward.',
  schema: z.object({ patientId: z.string().min(1), wardId: z.string().min(1) }),
  partitionKey: (data) => data.patientId,
});

/** Command to the bed management service: assign the held bed to the patient. */
export const AssignBed = defineEvent({
  type: 'healthcare.bed.assign',
  version: 1,
  description: 'Assign a held bed to an admitted patient.',
  schema: z.object({ bedId: z.string(), patientId: z.string(), admissionId: z.string() }),
  partitionKey: (data) => data.bedId,
});

/** The bed management service assigned the bed. */
export const BedAssigned = defineEvent({
  type: 'healthcare.bed.assigned',
  version: 1,
  description: 'A bed was assigned to a patient.',
  schema: z.object({ bedId: z.string(), patientId: z.string() }),
  partitionKey: (data) => data.bedId,
});

/** The bed management service could not assign the bed. */
export const BedAssignmentFailed = defineEvent({
  type: 'healthcare.bed.assignment-failed',
  version: 1,
  description: 'A bed could not be assigned.',
  schema: z.object({ bedId: z.string(), patientId: z.string(), reason: z.string() }),
  partitionKey: (data) => data.bedId,
});

/** Admission requests, keyed by patient. */
export const AdmissionTopic = defineTopic({
  name: 'healthcare.admissions',
  partitions: 4,
  events: [AdmissionRequested],
});

/** Commands and replies of the bed management service, keyed by bed. */
export const BedTopic = defineTopic({
  name: 'healthcare.beds',
  partitions: 4,
  events: [AssignBed, BedAssigned, BedAssignmentFailed],
});

/** The example's bus catalog (with the workflow alerts topic, so SLA breaches are published). */
export const admissionCatalog = createCatalog({ topics: [AdmissionTopic, BedTopic, WorkflowAlertsTopic] });
