import { z } from 'zod';
import { healthcareEvent } from '../define.ts';
import { coding, id, instant, origin } from './shared.ts';

/** Classes of encounter, as FHIR's v3 ActCode subset most systems send. */
const encounterClass = z.enum(['inpatient', 'outpatient', 'emergency', 'virtual', 'home', 'other']);

/** A patient's encounter with care began: an admission, a visit, a call. */
export const EncounterStarted = healthcareEvent({
  type: 'healthcare.encounter.started',
  version: 1,
  description: "A patient's encounter began (admission, visit, virtual consultation).",
  schema: z.object({
    encounterId: id,
    patientId: id,
    class: encounterClass,
    /** When it began, when the source says (a FHIR Encounter in progress may carry no period). */
    startedAt: instant.optional(),
    locationId: id.optional(),
    practitionerId: id.optional(),
    reason: coding.optional(),
    origin,
  }),
  partitionKey: (data) => data.patientId,
  example: {
    encounterId: 'enc-501',
    patientId: 'patient-123',
    class: 'inpatient',
    startedAt: '2024-12-02T10:00:00Z',
    locationId: 'ward-cardio',
  },
});

/** A patient's encounter ended: discharge, end of visit. */
export const EncounterEnded = healthcareEvent({
  type: 'healthcare.encounter.ended',
  version: 1,
  description: "A patient's encounter ended (discharge, end of visit), with the disposition when known.",
  schema: z.object({
    encounterId: id,
    patientId: id,
    endedAt: instant,
    disposition: z.string().optional(),
    origin,
  }),
  partitionKey: (data) => data.patientId,
  example: {
    encounterId: 'enc-501',
    patientId: 'patient-123',
    endedAt: '2024-12-05T11:00:00Z',
    disposition: 'home',
  },
});

/** Every encounter event type. */
export const encounterEvents = [EncounterStarted, EncounterEnded] as const;
