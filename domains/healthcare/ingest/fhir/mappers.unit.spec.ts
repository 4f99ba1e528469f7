import type { Appointment, ClaimResponse, Encounter, Observation, Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { bundleContext } from './bundle-context.ts';
import { mapEncounter, mapObservation } from './map-clinical.ts';
import { mapAppointment, mapClaimResponse } from './map-financial.ts';
import { mapPatient } from './map-patient.ts';
import { UnmappableError } from './mapping.ts';

const context = bundleContext(undefined);
const typesOf = (events: { definition: { type: string } }[]) => events.map((e) => e.definition.type);

const patient: Patient = {
  resourceType: 'Patient',
  id: 'p1',
  meta: { versionId: '1', lastUpdated: '2024-12-02T10:00:00Z' },
  name: [{ family: 'Doe', given: ['Jane'] }],
  birthDate: '1991-02-03',
  gender: 'female',
};

describe('Patient', () => {
  it('is a registration at version 1 and an update at a later version', () => {
    expect(typesOf(mapPatient(patient, context))).toEqual(['healthcare.patient.created']);
    const later = mapPatient(
      { ...patient, meta: { versionId: '2', lastUpdated: '2024-12-03T10:00:00Z' } },
      context,
    );
    expect(typesOf(later)).toEqual(['healthcare.patient.updated']);
    expect(later[0]?.data).toMatchObject({ patientId: 'p1', changes: { lastName: 'Doe' } });
  });

  it('records a merge from a `replaces` link and a deactivation from `active: false`', () => {
    const events = mapPatient(
      { ...patient, active: false, link: [{ type: 'replaces', other: { reference: 'Patient/p0' } }] },
      context,
    );
    expect(typesOf(events)).toEqual([
      'healthcare.patient.created',
      'healthcare.patient.merged',
      'healthcare.patient.deactivated',
    ]);
    expect(events[1]?.data).toMatchObject({ patientId: 'p1', mergedPatientId: 'p0' });
  });

  it('names the element a registration cannot do without', () => {
    const { birthDate: _, ...undated } = patient;
    expect(() => mapPatient(undated, context)).toThrow(expect.objectContaining({ element: 'birthDate' }));
    expect(() => mapPatient(undated, context)).toThrow(UnmappableError);
  });
});

describe('Encounter', () => {
  const encounter: Encounter = {
    resourceType: 'Encounter',
    id: 'e1',
    status: 'finished',
    class: { code: 'EMER' },
    subject: { reference: 'Patient/p1' },
    period: { start: '2024-12-02T10:00:00Z', end: '2024-12-02T14:00:00+01:00' },
  };

  it('ends when finished, starts when in progress (with its class), and is silent when planned', () => {
    expect(mapEncounter(encounter, context)[0]).toMatchObject({
      definition: { type: 'healthcare.encounter.ended' },
      data: { encounterId: 'e1', patientId: 'p1', endedAt: '2024-12-02T13:00:00.000Z' },
    });
    expect(mapEncounter({ ...encounter, status: 'in-progress' }, context)[0]?.data).toMatchObject({
      class: 'emergency',
      startedAt: '2024-12-02T10:00:00.000Z',
    });
    expect(mapEncounter({ ...encounter, status: 'planned' }, context)).toEqual([]);
  });
});

describe('Observation', () => {
  const vital = (code: string): Observation => ({
    resourceType: 'Observation',
    id: 'o1',
    status: 'final',
    category: [{ coding: [{ code }] }],
    code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
    subject: { reference: 'Patient/p1' },
    effectiveDateTime: '2024-12-02T10:15:00Z',
    component: [
      { code: { coding: [{ code: '8480-6' }] }, valueQuantity: { value: 128, code: 'mm[Hg]' } },
      { code: { coding: [{ code: '8462-4' }] }, valueQuantity: { value: 82, code: 'mm[Hg]' } },
    ],
  });

  it('reads a blood pressure panel into vital signs, by category', () => {
    expect(mapObservation(vital('vital-signs'), context)[0]).toMatchObject({
      definition: { type: 'healthcare.vital-signs.recorded' },
      data: { patientId: 'p1', vitals: { bloodPressure: { systolic: 128, diastolic: 82 } } },
    });
  });

  it('makes a lab result of a laboratory observation and nothing of another category', () => {
    const lab: Observation = {
      ...vital('laboratory'),
      component: undefined,
      code: { coding: [{ system: 'http://loinc.org', code: '2345-7' }] },
      valueQuantity: { value: 112, code: 'mg/dL' },
      referenceRange: [{ low: { value: 70 }, high: { value: 99 } }],
    };
    expect(mapObservation(lab, context)[0]).toMatchObject({
      definition: { type: 'healthcare.lab-result.received' },
      data: { value: { value: 112, unit: 'mg/dL' }, referenceRange: { low: 70, high: 99 } },
    });
    expect(mapObservation(vital('social-history'), context)).toEqual([]);
  });
});

describe('Appointment and ClaimResponse', () => {
  const appointment: Appointment = {
    resourceType: 'Appointment',
    id: 'a1',
    status: 'booked',
    meta: { lastUpdated: '2024-12-01T08:00:00Z' },
    start: '2024-12-02T09:00:00Z',
    end: '2024-12-02T09:30:00Z',
    participant: [
      { actor: { reference: 'Practitioner/dr1' }, status: 'accepted' },
      { actor: { reference: 'Patient/p1' }, status: 'accepted' },
    ],
  };

  it('maps each appointment status to its event', () => {
    const statuses = ['booked', 'arrived', 'fulfilled', 'cancelled', 'noshow', 'entered-in-error'] as const;
    expect(statuses.map((status) => typesOf(mapAppointment({ ...appointment, status }, context))[0])).toEqual(
      [
        'healthcare.appointment.scheduled',
        'healthcare.appointment.confirmed',
        'healthcare.appointment.completed',
        'healthcare.appointment.cancelled',
        'healthcare.appointment.no-show',
        undefined,
      ],
    );
    expect(mapAppointment(appointment, context)[0]?.data).toMatchObject({
      patientId: 'p1',
      practitionerId: 'dr1',
    });
  });

  it('denies a claim on errors, pays it on a payment, and waits on a queued answer', () => {
    const response: ClaimResponse = {
      resourceType: 'ClaimResponse',
      status: 'active',
      type: { coding: [{ code: 'oral' }] },
      use: 'claim',
      patient: { reference: 'Patient/p1' },
      created: '2024-12-20T08:00:00Z',
      insurer: { reference: 'Organization/payer' },
      request: { reference: 'Claim/c1' },
      outcome: 'complete',
      payment: { type: { coding: [{ code: 'complete' }] }, amount: { value: 100.47, currency: 'USD' } },
    };
    expect(mapClaimResponse(response, context)[0]).toMatchObject({
      definition: { type: 'healthcare.claim.paid' },
      data: { claimId: 'c1', paid: { value: 100.47, currency: 'USD' } },
    });
    const denied = {
      ...response,
      outcome: 'error' as const,
      payment: undefined,
      error: [{ code: { coding: [{ code: 'a002' }] } }],
    };
    expect(mapClaimResponse(denied, context)[0]?.data).toMatchObject({ reasonCodes: ['a002'] });
    expect(mapClaimResponse({ ...response, outcome: 'queued', payment: undefined }, context)).toEqual([]);
  });
});

describe('references in a bundle', () => {
  it('resolves urn:uuid full URLs, relative and absolute references and versions, of the asked type only', () => {
    const inBundle = bundleContext({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:aaa', resource: { resourceType: 'Patient', id: 'p9' } },
        { fullUrl: 'urn:uuid:bbb', resource: { resourceType: 'Patient' } },
      ],
    });
    expect(inBundle.idOf({ reference: 'urn:uuid:aaa' }, 'Patient')).toBe('p9');
    expect(inBundle.idOf({ reference: 'urn:uuid:bbb' }, 'Patient')).toBe('bbb');
    expect(inBundle.idOf({ reference: 'urn:uuid:aaa' }, 'Encounter')).toBeUndefined();
    expect(inBundle.idOf({ reference: 'https://fhir.example.org/r4/Patient/p7/_history/3' }, 'Patient')).toBe(
      'p7',
    );
    expect(inBundle.idOf({ reference: 'Practitioner/dr1' }, 'Patient')).toBeUndefined();
    expect(inBundle.idOf(undefined, 'Patient')).toBeUndefined();
  });
});
