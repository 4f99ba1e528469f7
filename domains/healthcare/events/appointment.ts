import { z } from 'zod';
import { healthcareEvent } from '../define.ts';
import { coding, id, instant, origin } from './shared.ts';

const appointmentRef = { appointmentId: id, patientId: id };

/** An appointment was booked for a patient. */
export const AppointmentScheduled = healthcareEvent({
  type: 'healthcare.appointment.scheduled',
  version: 1,
  description: 'An appointment was booked for a patient with a practitioner, at a time and place.',
  schema: z.object({
    ...appointmentRef,
    start: instant,
    end: instant,
    practitionerId: id.optional(),
    locationId: id.optional(),
    serviceType: coding.optional(),
    reason: z.string().optional(),
    origin,
  }),
  partitionKey: (data) => data.patientId,
  example: {
    appointmentId: 'appt-2001',
    patientId: 'patient-123',
    start: '2024-12-02T09:00:00Z',
    end: '2024-12-02T09:30:00Z',
    practitionerId: 'practitioner-7',
    serviceType: { system: 'http://snomed.info/sct', code: '394814009', display: 'General practice' },
  },
});

/** The patient confirmed they will attend. */
export const AppointmentConfirmed = healthcareEvent({
  type: 'healthcare.appointment.confirmed',
  version: 1,
  description: 'The patient confirmed the appointment.',
  schema: z.object({
    ...appointmentRef,
    confirmedAt: instant,
    channel: z.enum(['sms', 'email', 'phone', 'portal', 'in-person']).optional(),
    origin,
  }),
  partitionKey: (data) => data.patientId,
  example: {
    appointmentId: 'appt-2001',
    patientId: 'patient-123',
    confirmedAt: '2024-11-30T18:12:00Z',
    channel: 'sms',
  },
});

/** The appointment was cancelled, by whom and why. */
export const AppointmentCancelled = healthcareEvent({
  type: 'healthcare.appointment.cancelled',
  version: 1,
  description: 'The appointment was cancelled by the patient, the provider or the system.',
  schema: z.object({
    ...appointmentRef,
    cancelledBy: z.enum(['patient', 'provider', 'system']),
    reason: z.string().optional(),
    cancelledAt: instant,
    origin,
  }),
  partitionKey: (data) => data.patientId,
  example: {
    appointmentId: 'appt-2001',
    patientId: 'patient-123',
    cancelledBy: 'patient',
    reason: 'feeling better',
    cancelledAt: '2024-12-01T08:00:00Z',
  },
});

/** The patient was seen. */
export const AppointmentCompleted = healthcareEvent({
  type: 'healthcare.appointment.completed',
  version: 1,
  description: 'The patient was seen; the encounter it became, when known.',
  schema: z.object({ ...appointmentRef, completedAt: instant, encounterId: id.optional(), origin }),
  partitionKey: (data) => data.patientId,
  example: {
    appointmentId: 'appt-2001',
    patientId: 'patient-123',
    completedAt: '2024-12-02T09:35:00Z',
    encounterId: 'enc-501',
  },
});

/** The patient did not come. */
export const AppointmentNoShow = healthcareEvent({
  type: 'healthcare.appointment.no-show',
  version: 1,
  description: 'The patient did not attend the appointment.',
  schema: z.object({ ...appointmentRef, start: instant, recordedAt: instant, origin }),
  partitionKey: (data) => data.patientId,
  example: {
    appointmentId: 'appt-2001',
    patientId: 'patient-123',
    start: '2024-12-02T09:00:00Z',
    recordedAt: '2024-12-02T09:20:00Z',
  },
});

/** Every appointment event type. */
export const appointmentEvents = [
  AppointmentScheduled,
  AppointmentConfirmed,
  AppointmentCancelled,
  AppointmentCompleted,
  AppointmentNoShow,
] as const;
