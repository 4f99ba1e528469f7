import { z } from 'zod';
import { healthcareEvent } from '../define.ts';
import { id, instant, origin } from './shared.ts';

const address = z.object({
  line: z.array(z.string()).optional(),
  city: z.string().optional(),
  postalCode: z.string().optional(),
  country: z.string().optional(),
});

/**
 * A patient was registered: the epic's first healthcare event. Its demographics are not declared `sensitive`
 * here, since a catalog that declares sensitive fields needs a master key before the node starts (a
 * deployment that seals them declares them in its own catalog module).
 */
export const PatientCreated = healthcareEvent({
  type: 'healthcare.patient.created',
  version: 1,
  description: 'A patient was registered with their demographics.',
  schema: z.object({
    patientId: id,
    firstName: z.string().min(1),
    lastName: z.string().min(1),
    dateOfBirth: z.iso.date(),
    email: z.email().optional(),
    gender: z.enum(['male', 'female', 'other', 'unknown']).optional(),
    mrn: z.string().min(1).optional(),
    phone: z.string().min(1).optional(),
    address: address.optional(),
    origin,
  }),
  partitionKey: (data) => data.patientId,
  example: {
    patientId: 'patient-123',
    firstName: 'John',
    lastName: 'Doe',
    dateOfBirth: '1990-01-01',
    email: 'john.doe@example.com',
    gender: 'male',
    mrn: 'MRN-000123',
  },
});

/** Some of a patient's demographics changed: the changed fields with their new values. */
export const PatientUpdated = healthcareEvent({
  type: 'healthcare.patient.updated',
  version: 1,
  description: "A patient's demographics changed; `changes` holds the changed fields with their new values.",
  schema: z.object({
    patientId: id,
    changes: z.record(z.string(), z.unknown()),
    origin,
  }),
  partitionKey: (data) => data.patientId,
  example: { patientId: 'patient-123', changes: { phone: '+1-555-0100', address: { city: 'Springfield' } } },
});

/** Two records of one person were merged (HL7 ADT A40): the merged record lives on in the surviving one. */
export const PatientMerged = healthcareEvent({
  type: 'healthcare.patient.merged',
  version: 1,
  description:
    'Two records of one person were merged; the merged record is retired in favour of the surviving one.',
  schema: z.object({
    patientId: id.describe('The surviving record'),
    mergedPatientId: id.describe('The record merged into it, retired'),
    reason: z.string().optional(),
    mergedAt: instant,
    origin,
  }),
  partitionKey: (data) => data.patientId,
  example: {
    patientId: 'patient-123',
    mergedPatientId: 'patient-987',
    reason: 'duplicate registration',
    mergedAt: '2024-11-24T10:30:00Z',
  },
});

/** A patient record was deactivated: deceased, moved away, or entered in error. */
export const PatientDeactivated = healthcareEvent({
  type: 'healthcare.patient.deactivated',
  version: 1,
  description: 'A patient record was deactivated (deceased, moved, entered in error).',
  schema: z.object({
    patientId: id,
    reason: z.enum(['deceased', 'moved', 'entered-in-error', 'merged', 'other']),
    deactivatedAt: instant,
    deceasedAt: instant.optional(),
    origin,
  }),
  partitionKey: (data) => data.patientId,
  example: { patientId: 'patient-123', reason: 'moved', deactivatedAt: '2024-12-01T09:00:00Z' },
});

/** Every patient event type, in the order a record lives them. */
export const patientEvents = [PatientCreated, PatientUpdated, PatientMerged, PatientDeactivated] as const;
