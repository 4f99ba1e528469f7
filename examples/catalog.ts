import { z } from 'zod';
import { createCatalog } from '../src/events/catalog.ts';
import { defineEvent } from '../src/events/define-event.ts';
import { defineTopic } from '../src/events/define-topic.ts';

/** A patient was registered (the epic's first healthcare event). */
export const PatientCreated = defineEvent({
  type: 'healthcare.patient.created',
  version: 1,
  description: 'A patient was registered.',
  schema: z.object({
    patientId: z.string().min(1),
    firstName: z.string().min(1),
    lastName: z.string().min(1),
    dateOfBirth: z.iso.date(),
    email: z.email().optional(),
  }),
  partitionKey: (data) => data.patientId,
});

/** A patient's demographics changed. */
export const PatientUpdated = defineEvent({
  type: 'healthcare.patient.updated',
  version: 1,
  description: "A patient's demographics changed.",
  schema: z.object({
    patientId: z.string().min(1),
    changes: z.record(z.string(), z.unknown()),
  }),
  partitionKey: (data) => data.patientId,
});

/** Every event about patients, keyed by patient id so one patient's events keep their order. */
export const PatientEvents = defineTopic({
  name: 'healthcare.patients.events',
  partitions: 12,
  replication: 3,
  retentionMs: 7 * 24 * 3600 * 1000,
  events: [PatientCreated, PatientUpdated],
  description: 'Patient lifecycle events, keyed by patientId.',
});

/** The example catalog `keel start` loads when `KEEL_CATALOG` is not set. */
export const catalog = createCatalog({ topics: [PatientEvents] });

export default catalog;
