import type {
  Condition,
  Encounter,
  Medication,
  MedicationRequest,
  Observation,
  Quantity,
} from '@medplum/fhirtypes';
import {
  DiagnosisAdded,
  LabResultReceived,
  PrescriptionCreated,
  VitalSignsRecorded,
} from '../../events/clinical.ts';
import { EncounterEnded, EncounterStarted } from '../../events/encounter.ts';
import {
  codingOf,
  defined,
  hasCode,
  instantOf,
  type MappedEvent,
  type MappingContext,
  need,
  originOf,
} from './mapping.ts';

/** Encounter class codes (v3 ActCode) to the pack's classes. */
const ENCOUNTER_CLASSES: Record<string, string> = {
  IMP: 'inpatient',
  ACUTE: 'inpatient',
  NONAC: 'inpatient',
  AMB: 'outpatient',
  EMER: 'emergency',
  VR: 'virtual',
  HH: 'home',
};

/** Encounter: `in-progress` or `arrived` starts it, `finished` ends it; other statuses make no event. */
export function mapEncounter(encounter: Encounter, context: MappingContext): MappedEvent[] {
  const base = () => ({
    encounterId: need(encounter.id, 'id', 'the encounter id'),
    patientId: need(context.idOf(encounter.subject, 'Patient'), 'subject', 'the patient'),
    origin: originOf(encounter),
  });
  if (encounter.status === 'in-progress' || encounter.status === 'arrived') {
    return [
      {
        definition: EncounterStarted,
        data: defined({
          ...base(),
          class: ENCOUNTER_CLASSES[encounter.class?.code ?? ''] ?? 'other',
          startedAt: encounter.period?.start
            ? instantOf(encounter.period.start, 'period.start', 'when it began')
            : undefined,
          locationId: context.idOf(encounter.location?.[0]?.location, 'Location'),
          reason: codingOf(encounter.reasonCode?.[0]),
        }),
      },
    ];
  }
  if (encounter.status === 'finished') {
    return [
      {
        definition: EncounterEnded,
        data: defined({
          ...base(),
          endedAt: instantOf(encounter.period?.end, 'period.end', 'when it ended'),
          disposition: codingOf(encounter.hospitalization?.dischargeDisposition)?.display,
        }),
      },
    ];
  }
  return [];
}

/** LOINC codes of the vital signs profile, to the fields of `vital-signs.recorded`. */
const VITALS: Record<string, string> = {
  '8867-4': 'heartRate',
  '9279-1': 'respiratoryRate',
  '8310-5': 'temperature',
  '59408-5': 'oxygenSaturation',
  '2708-6': 'oxygenSaturation',
  '29463-7': 'bodyWeight',
  '8302-2': 'bodyHeight',
};

const quantity = (value: Quantity | undefined) =>
  value?.value === undefined ? undefined : { value: value.value, unit: value.code ?? value.unit ?? '1' };

/** The `vitals` of one vital-signs Observation: its own code, or a blood pressure panel's components. */
function vitalsOf(observation: Observation): Record<string, unknown> {
  const components = observation.component ?? [];
  const systolic = components.find((c) => hasCode([c.code], '8480-6'))?.valueQuantity?.value;
  const diastolic = components.find((c) => hasCode([c.code], '8462-4'))?.valueQuantity?.value;
  if (systolic !== undefined && diastolic !== undefined) return { bloodPressure: { systolic, diastolic } };
  const code = observation.code.coding?.map((c) => c.code ?? '').find((c) => VITALS[c]);
  const field = code ? VITALS[code] : undefined;
  const value = quantity(observation.valueQuantity);
  if (field === undefined || value === undefined) {
    const coding = codingOf(observation.code);
    return value && coding ? { other: [{ code: coding, value }] } : {};
  }
  return { [field]: ['temperature', 'bodyWeight', 'bodyHeight'].includes(field) ? value : value.value };
}

/** Observation: category `vital-signs` records vital signs, `laboratory` a lab result; others make no event. */
export function mapObservation(observation: Observation, context: MappingContext): MappedEvent[] {
  const patientId = () => need(context.idOf(observation.subject, 'Patient'), 'subject', 'the patient');
  const effective = observation.effectiveDateTime ?? observation.effectivePeriod?.start ?? observation.issued;
  if (hasCode(observation.category, 'vital-signs')) {
    return [
      {
        definition: VitalSignsRecorded,
        data: defined({
          patientId: patientId(),
          observationId: observation.id,
          encounterId: context.idOf(observation.encounter, 'Encounter'),
          recordedAt: instantOf(effective, 'effective[x]', 'when the signs were measured'),
          vitals: vitalsOf(observation),
          origin: originOf(observation),
        }),
      },
    ];
  }
  if (!hasCode(observation.category, 'laboratory')) return [];
  const range = observation.referenceRange?.[0];
  const value =
    quantity(observation.valueQuantity) ??
    observation.valueString ??
    observation.valueBoolean ??
    codingOf(observation.valueCodeableConcept);
  return [
    {
      definition: LabResultReceived,
      data: defined({
        patientId: patientId(),
        observationId: need(observation.id, 'id', 'the observation id'),
        code: need(codingOf(observation.code), 'code', 'what was measured'),
        status: observation.status,
        value,
        referenceRange: range ? defined({ low: range.low?.value, high: range.high?.value }) : undefined,
        interpretation: codingOf(observation.interpretation?.[0])?.code,
        effectiveAt: effective,
        encounterId: context.idOf(observation.encounter, 'Encounter'),
        origin: originOf(observation),
      }),
    },
  ];
}

/** Condition: a diagnosis added to the patient's problems. */
export function mapCondition(condition: Condition, context: MappingContext): MappedEvent[] {
  const clinicalStatus = condition.clinicalStatus?.coding?.[0]?.code;
  return [
    {
      definition: DiagnosisAdded,
      data: defined({
        patientId: need(context.idOf(condition.subject, 'Patient'), 'subject', 'the patient'),
        conditionId: need(condition.id, 'id', 'the condition id'),
        code: need(codingOf(condition.code), 'code', 'the diagnosis'),
        clinicalStatus,
        verificationStatus: condition.verificationStatus?.coding?.[0]?.code,
        severity: codingOf(condition.severity)?.display,
        onset: condition.onsetDateTime ?? condition.onsetString,
        encounterId: context.idOf(condition.encounter, 'Encounter'),
        recordedAt: condition.recordedDate
          ? instantOf(condition.recordedDate, 'recordedDate', 'when')
          : undefined,
        origin: originOf(condition),
      }),
    },
  ];
}

/** MedicationRequest: a prescription. */
export function mapMedicationRequest(request: MedicationRequest, context: MappingContext): MappedEvent[] {
  // A reference to a contained Medication (`#med0310`) is read from the resource itself.
  const contained = request.medicationReference?.reference?.startsWith('#')
    ? (request.contained ?? []).find(
        (r): r is Medication =>
          r.resourceType === 'Medication' && `#${r.id}` === request.medicationReference?.reference,
      )
    : undefined;
  const concept = request.medicationCodeableConcept ?? contained?.code;
  const code = codingOf(concept);
  const text = concept?.text ?? request.medicationReference?.display;
  return [
    {
      definition: PrescriptionCreated,
      data: defined({
        patientId: need(context.idOf(request.subject, 'Patient'), 'subject', 'the patient'),
        prescriptionId: need(request.id, 'id', 'the prescription id'),
        medication: need(
          code || text ? defined({ code, text }) : undefined,
          'medication[x]',
          'the medication, coded or named',
        ),
        status: request.status,
        intent: request.intent,
        dosage: request.dosageInstruction?.[0]?.text,
        prescriberId: context.idOf(request.requester, 'Practitioner'),
        authoredOn: request.authoredOn,
        encounterId: context.idOf(request.encounter, 'Encounter'),
        origin: originOf(request),
      }),
    },
  ];
}
