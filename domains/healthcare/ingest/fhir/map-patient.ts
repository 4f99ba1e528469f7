import type { Patient } from '@medplum/fhirtypes';
import { PatientCreated, PatientDeactivated, PatientMerged, PatientUpdated } from '../../events/patient.ts';
import { defined, type MappedEvent, type MappingContext, need, originOf } from './mapping.ts';

/** The demographics of a Patient in the shape of `patient.created`. */
function demographics(patient: Patient): Record<string, unknown> {
  const name = patient.name?.find((n) => n.use === 'official') ?? patient.name?.[0];
  const address = patient.address?.[0];
  return defined({
    patientId: need(patient.id, 'id', 'the patient id'),
    firstName: need(name?.given?.[0], 'name[0].given[0]', 'a given name'),
    lastName: need(name?.family, 'name[0].family', 'a family name'),
    dateOfBirth: need(patient.birthDate, 'birthDate', 'the date of birth')?.slice(0, 10),
    email: patient.telecom?.find((t) => t.system === 'email')?.value,
    phone: patient.telecom?.find((t) => t.system === 'phone')?.value,
    gender: patient.gender,
    mrn: patient.identifier?.find((i) => i.type?.coding?.some((c) => c.code === 'MR'))?.value,
    address: address
      ? defined({
          line: address.line,
          city: address.city,
          postalCode: address.postalCode,
          country: address.country,
        })
      : undefined,
    origin: originOf(patient),
  });
}

/**
 * Patient: version 1 (or no version) is a registration, a later version an update of its demographics;
 * `active: false` deactivates it, and a `replaces` link records a merge of the linked record into it.
 */
export function mapPatient(patient: Patient, context: MappingContext): MappedEvent[] {
  const version = patient.meta?.versionId;
  const data = demographics(patient);
  const { patientId, origin } = data as { patientId: string; origin: unknown };
  const events: MappedEvent[] =
    version === undefined || version === '1'
      ? [{ definition: PatientCreated, data }]
      : [{ definition: PatientUpdated, data: { patientId, changes: data, origin } }];
  for (const link of patient.link ?? []) {
    const merged = link.type === 'replaces' ? context.idOf(link.other, 'Patient') : undefined;
    if (merged === undefined) continue;
    const mergedAt = patient.meta?.lastUpdated;
    events.push({
      definition: PatientMerged,
      data: {
        patientId,
        mergedPatientId: merged,
        mergedAt: need(mergedAt, 'meta.lastUpdated', 'when the merge happened'),
        origin,
      },
    });
  }
  if (patient.active === false) {
    const deceased = patient.deceasedDateTime;
    events.push({
      definition: PatientDeactivated,
      data: defined({
        patientId,
        reason: deceased || patient.deceasedBoolean ? 'deceased' : 'other',
        deactivatedAt: need(patient.meta?.lastUpdated, 'meta.lastUpdated', 'when the record was deactivated'),
        deceasedAt: deceased && deceased.length > 10 ? deceased : undefined,
        origin,
      }),
    });
  }
  return events;
}
