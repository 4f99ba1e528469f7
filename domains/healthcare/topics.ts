import { defineTopic } from '../../src/index.ts';
import { agentEvents } from './events/agents.ts';
import { appointmentEvents } from './events/appointment.ts';
import { clinicalEvents } from './events/clinical.ts';
import { encounterEvents } from './events/encounter.ts';
import { ingestionEvents } from './events/ingestion.ts';
import { journeyEvents } from './events/journey.ts';
import { auditEvents, notificationEvents, qualityEvents } from './events/operations.ts';
import { patientEvents } from './events/patient.ts';
import { revenueCycleEvents } from './events/revenue-cycle.ts';

/** Milliseconds in a day. */
const DAY_MS = 24 * 3600 * 1000;

/** Patient lifecycle, keyed by patient id (the epic: 12 partitions, 30 days). */
export const PatientTopic = defineTopic({
  name: 'healthcare.patients.events',
  partitions: 12,
  replication: 3,
  retentionMs: 30 * DAY_MS,
  events: patientEvents,
  description: 'Patient lifecycle events (created, updated, merged, deactivated), keyed by patientId.',
});

/** Appointments, keyed by patient id (12 partitions, 30 days). */
export const AppointmentTopic = defineTopic({
  name: 'healthcare.appointments.events',
  partitions: 12,
  replication: 3,
  retentionMs: 30 * DAY_MS,
  events: appointmentEvents,
  description:
    'Appointment events (scheduled, confirmed, cancelled, completed, no-show), keyed by patientId.',
});

/** Encounters and clinical facts, keyed by patient id (24 partitions, 90 days). */
export const ClinicalTopic = defineTopic({
  name: 'healthcare.clinical.events',
  partitions: 24,
  replication: 3,
  retentionMs: 90 * DAY_MS,
  events: [...encounterEvents, ...clinicalEvents],
  description: 'Encounters, vital signs, diagnoses, prescriptions and lab results, keyed by patientId.',
});

/** Care journeys, compacted per journey (6 partitions, 30 days). */
export const JourneyTopic = defineTopic({
  name: 'healthcare.journeys.events',
  partitions: 6,
  replication: 3,
  retentionMs: 30 * DAY_MS,
  compacted: true,
  events: journeyEvents,
  description:
    'Care journey events, keyed by journeyId and compacted: the newest event of each journey is kept.',
});

/** What came in through ingestion (FHIR, HL7 v2, batch files). */
export const IngestionTopic = defineTopic({
  name: 'healthcare.ingest.events',
  partitions: 12,
  replication: 3,
  retentionMs: 30 * DAY_MS,
  events: ingestionEvents,
  description: 'Receipts of ingested FHIR bundles, HL7 v2 messages (raw) and batch files.',
});

/** AI agent tasks, keyed by task id. */
export const AgentTopic = defineTopic({
  name: 'healthcare.agents.events',
  partitions: 6,
  replication: 3,
  retentionMs: 30 * DAY_MS,
  events: agentEvents,
  description: 'AI agent tasks requested, completed and failed, keyed by taskId.',
});

/** Alerts for people. */
export const NotificationTopic = defineTopic({
  name: 'healthcare.notifications.events',
  partitions: 6,
  replication: 3,
  retentionMs: 30 * DAY_MS,
  events: notificationEvents,
  description: 'Alerts raised for care teams and staff, keyed by patientId (or alertId).',
});

/** Revenue cycle: claims, denials, appeals, payments, keyed by claim id. */
export const RevenueCycleTopic = defineTopic({
  name: 'healthcare.rcm.events',
  partitions: 12,
  replication: 3,
  retentionMs: 90 * DAY_MS,
  events: revenueCycleEvents,
  description: 'Claims submitted, denied, appealed and paid, keyed by claimId.',
});

/** Quality measures: care gaps, keyed by patient id. */
export const QualityTopic = defineTopic({
  name: 'healthcare.quality.events',
  partitions: 6,
  replication: 3,
  retentionMs: 90 * DAY_MS,
  events: qualityEvents,
  description: 'Care gaps identified and closed, keyed by patientId.',
});

/** Access to records, kept a year for compliance review. */
export const AuditTopic = defineTopic({
  name: 'healthcare.audit.events',
  partitions: 12,
  replication: 3,
  retentionMs: 365 * DAY_MS,
  events: auditEvents,
  description: "Accesses to patients' records, keyed by patientId, kept 365 days.",
});

/** Every topic of the pack. */
export const healthcareTopics = [
  PatientTopic,
  AppointmentTopic,
  ClinicalTopic,
  JourneyTopic,
  IngestionTopic,
  AgentTopic,
  NotificationTopic,
  RevenueCycleTopic,
  QualityTopic,
  AuditTopic,
] as const;
