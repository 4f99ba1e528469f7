import { z } from 'zod';
import { healthcareEvent } from '../define.ts';
import { coding, id, instant } from './shared.ts';

/** An alert for people to act on: a critical lab value, a missed follow-up, an SLA at risk. */
export const AlertRaised = healthcareEvent({
  type: 'healthcare.notification.alert.raised',
  version: 1,
  description: 'An alert was raised for people to act on (critical value, missed follow-up, SLA at risk).',
  schema: z.object({
    alertId: id,
    severity: z.enum(['info', 'warning', 'critical']),
    title: z.string().min(1),
    message: z.string(),
    patientId: id.optional(),
    recipients: z.array(z.string().min(1)).optional(),
    raisedBy: z.string().optional(),
  }),
  partitionKey: (data) => data.patientId ?? data.alertId,
  example: {
    alertId: 'alert-61',
    severity: 'critical',
    title: 'Critical potassium',
    message: 'Potassium 6.8 mmol/L for patient-123',
    patientId: 'patient-123',
    recipients: ['care-team:cardio'],
    raisedBy: 'rule:critical-labs',
  },
});

/** A care gap (a measure the patient is due for) was found. */
export const CareGapIdentified = healthcareEvent({
  type: 'healthcare.care-gap.identified',
  version: 1,
  description: 'A care gap was found: the patient is due for a quality measure (screening, follow-up).',
  schema: z.object({
    gapId: id,
    patientId: id,
    measure: z.object({ id: z.string().min(1), name: z.string().min(1) }),
    dueBy: z.iso.date().optional(),
    identifiedAt: instant,
  }),
  partitionKey: (data) => data.patientId,
  example: {
    gapId: 'gap-12',
    patientId: 'patient-123',
    measure: { id: 'CMS165', name: 'Controlling High Blood Pressure' },
    dueBy: '2024-12-31',
    identifiedAt: '2024-12-02T12:00:00Z',
  },
});

/** A care gap was closed, and by what. */
export const CareGapClosed = healthcareEvent({
  type: 'healthcare.care-gap.closed',
  version: 1,
  description: 'A care gap was closed, with the evidence that closed it.',
  schema: z.object({
    gapId: id,
    patientId: id,
    closedAt: instant,
    evidence: z.string().optional(),
  }),
  partitionKey: (data) => data.patientId,
  example: {
    gapId: 'gap-12',
    patientId: 'patient-123',
    closedAt: '2024-12-20T15:00:00Z',
    evidence: 'Observation/obs-9001',
  },
});

/** Someone read or exported a patient's record: the access log compliance asks for. */
export const RecordAccessed = healthcareEvent({
  type: 'healthcare.audit.record.accessed',
  version: 1,
  description: "Someone accessed a patient's record: who, what, how and for what purpose.",
  schema: z.object({
    patientId: id,
    actorId: z.string().min(1),
    actorRole: z.string().optional(),
    action: z.enum(['read', 'search', 'export', 'print', 'update']),
    resource: z.object({ type: z.string().min(1), id: z.string().min(1) }),
    purposeOfUse: coding.optional(),
    accessedAt: instant,
  }),
  partitionKey: (data) => data.patientId,
  example: {
    patientId: 'patient-123',
    actorId: 'user-345',
    actorRole: 'nurse',
    action: 'read',
    resource: { type: 'Observation', id: 'obs-9001' },
    purposeOfUse: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' },
    accessedAt: '2024-12-02T10:20:00Z',
  },
});

/** The notification event types. */
export const notificationEvents = [AlertRaised] as const;
/** The quality event types. */
export const qualityEvents = [CareGapIdentified, CareGapClosed] as const;
/** The audit event types. */
export const auditEvents = [RecordAccessed] as const;
