import { z } from 'zod';
import { healthcareEvent } from '../define.ts';
import { coding, id, instant, origin, quantity } from './shared.ts';

/** Version 1 of vital signs: flat fields in fixed units. Kept to read events written before version 2. */
export const vitalSignsV1 = z.object({
  patientId: id,
  recordedAt: instant,
  heartRate: z.number().optional(),
  systolic: z.number().optional(),
  diastolic: z.number().optional(),
  temperatureC: z.number().optional(),
  spo2: z.number().optional(),
});

/** Version 2 of vital signs: grouped under `vitals`, each measure with its unit, plus any other measure. */
const vitalSignsV2 = z.object({
  patientId: id,
  observationId: id.optional(),
  encounterId: id.optional(),
  recordedAt: instant,
  vitals: z.object({
    /** Beats per minute. */
    heartRate: z.number().optional(),
    /** Breaths per minute. */
    respiratoryRate: z.number().optional(),
    /** mm[Hg]. */
    bloodPressure: z.object({ systolic: z.number(), diastolic: z.number() }).optional(),
    temperature: quantity.optional(),
    /** Percent. */
    oxygenSaturation: z.number().optional(),
    bodyWeight: quantity.optional(),
    bodyHeight: quantity.optional(),
    /** Measures of the vital-signs category without a field of their own. */
    other: z.array(z.object({ code: coding, value: quantity })).optional(),
  }),
  origin,
});

/**
 * Version 1 → 2: the flat fields move under `vitals`, the temperature gains its unit (`Cel`); `spo2` becomes
 * `oxygenSaturation`.
 */
export function upcastVitalSignsV1(data: unknown): z.input<typeof vitalSignsV2> {
  const v1 = vitalSignsV1.parse(data);
  const { patientId, recordedAt, heartRate, systolic, diastolic, temperatureC, spo2 } = v1;
  return {
    patientId,
    recordedAt,
    vitals: {
      ...(heartRate === undefined ? {} : { heartRate }),
      ...(systolic !== undefined && diastolic !== undefined
        ? { bloodPressure: { systolic, diastolic } }
        : {}),
      ...(temperatureC === undefined ? {} : { temperature: { value: temperatureC, unit: 'Cel' } }),
      ...(spo2 === undefined ? {} : { oxygenSaturation: spo2 }),
    },
  };
}

/** Vital signs were measured for a patient (version 2; version 1 upcast on read). */
export const VitalSignsRecorded = healthcareEvent({
  type: 'healthcare.vital-signs.recorded',
  version: 2,
  description:
    'Vital signs were measured for a patient: heart rate, blood pressure, temperature, SpO2, weight...',
  schema: vitalSignsV2,
  partitionKey: (data) => data.patientId,
  upcasters: [{ fromVersion: 1, upcast: upcastVitalSignsV1 }],
  example: {
    patientId: 'patient-123',
    observationId: 'obs-9001',
    encounterId: 'enc-501',
    recordedAt: '2024-12-02T10:15:00Z',
    vitals: {
      heartRate: 88,
      bloodPressure: { systolic: 128, diastolic: 82 },
      temperature: { value: 37.2, unit: 'Cel' },
      oxygenSaturation: 97,
    },
  },
});

/** A diagnosis (problem, condition) was recorded for a patient. */
export const DiagnosisAdded = healthcareEvent({
  type: 'healthcare.diagnosis.added',
  version: 1,
  description: 'A diagnosis was recorded for a patient (ICD-10 or SNOMED CT), with its clinical status.',
  schema: z.object({
    patientId: id,
    conditionId: id,
    code: coding,
    clinicalStatus: z
      .enum(['active', 'recurrence', 'relapse', 'inactive', 'remission', 'resolved'])
      .optional(),
    verificationStatus: z.string().optional(),
    severity: z.string().optional(),
    onset: z.string().optional(),
    encounterId: id.optional(),
    recordedAt: instant.optional(),
    origin,
  }),
  partitionKey: (data) => data.patientId,
  example: {
    patientId: 'patient-123',
    conditionId: 'cond-77',
    code: { system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'I10', display: 'Essential hypertension' },
    clinicalStatus: 'active',
    encounterId: 'enc-501',
    recordedAt: '2024-12-02T10:40:00Z',
  },
});

/** A prescription (medication request) was written for a patient. */
export const PrescriptionCreated = healthcareEvent({
  type: 'healthcare.prescription.created',
  version: 1,
  description: 'A medication was prescribed for a patient (RxNorm code or text), with its dosage.',
  schema: z.object({
    patientId: id,
    prescriptionId: id,
    medication: z.object({ code: coding.optional(), text: z.string().optional() }),
    status: z.string().min(1),
    intent: z.string().min(1),
    dosage: z.string().optional(),
    prescriberId: id.optional(),
    authoredOn: z.string().optional(),
    encounterId: id.optional(),
    origin,
  }),
  partitionKey: (data) => data.patientId,
  example: {
    patientId: 'patient-123',
    prescriptionId: 'rx-3001',
    medication: {
      code: {
        system: 'http://www.nlm.nih.gov/research/umls/rxnorm',
        code: '314076',
        display: 'lisinopril 10 MG',
      },
    },
    status: 'active',
    intent: 'order',
    dosage: '1 tablet by mouth once daily',
    prescriberId: 'practitioner-7',
    authoredOn: '2024-12-02',
  },
});

/** A laboratory result arrived for a patient. */
export const LabResultReceived = healthcareEvent({
  type: 'healthcare.lab-result.received',
  version: 1,
  description: 'A laboratory result arrived (LOINC code, value, unit, reference range, interpretation).',
  schema: z.object({
    patientId: id,
    observationId: id,
    code: coding,
    status: z.string().min(1),
    value: z.union([quantity, z.string(), z.boolean(), coding]).optional(),
    referenceRange: z.object({ low: z.number().optional(), high: z.number().optional() }).optional(),
    interpretation: z.string().optional(),
    effectiveAt: z.string().optional(),
    encounterId: id.optional(),
    origin,
  }),
  partitionKey: (data) => data.patientId,
  example: {
    patientId: 'patient-123',
    observationId: 'obs-9100',
    code: { system: 'http://loinc.org', code: '2345-7', display: 'Glucose [Mass/volume] in Serum or Plasma' },
    status: 'final',
    value: { value: 112, unit: 'mg/dL' },
    referenceRange: { low: 70, high: 99 },
    interpretation: 'H',
    effectiveAt: '2024-12-02T11:30:00Z',
  },
});

/** Every clinical event type. */
export const clinicalEvents = [
  VitalSignsRecorded,
  DiagnosisAdded,
  PrescriptionCreated,
  LabResultReceived,
] as const;
