import type { Appointment, Claim, ClaimResponse, Money } from '@medplum/fhirtypes';
import {
  AppointmentCancelled,
  AppointmentCompleted,
  AppointmentConfirmed,
  AppointmentNoShow,
  AppointmentScheduled,
} from '../../events/appointment.ts';
import { ClaimDenied, ClaimPaid, ClaimSubmitted } from '../../events/revenue-cycle.ts';
import {
  codingOf,
  defined,
  instantOf,
  type MappedEvent,
  type MappingContext,
  need,
  originOf,
} from './mapping.ts';

/** The event type each Appointment status becomes; statuses absent here make no event. */
const APPOINTMENT_EVENTS = {
  proposed: AppointmentScheduled,
  pending: AppointmentScheduled,
  booked: AppointmentScheduled,
  arrived: AppointmentConfirmed,
  'checked-in': AppointmentConfirmed,
  fulfilled: AppointmentCompleted,
  cancelled: AppointmentCancelled,
  noshow: AppointmentNoShow,
} as const;

/** Appointment: booked is scheduled, arrived confirmed, fulfilled completed, cancelled, no-show. */
export function mapAppointment(appointment: Appointment, context: MappingContext): MappedEvent[] {
  const definition = APPOINTMENT_EVENTS[appointment.status as keyof typeof APPOINTMENT_EVENTS];
  if (!definition) return [];
  const patientIndex = appointment.participant.findIndex(
    (p) => context.idOf(p.actor, 'Patient') !== undefined,
  );
  const base = {
    appointmentId: need(appointment.id, 'id', 'the appointment id'),
    patientId: need(
      context.idOf(appointment.participant[patientIndex]?.actor, 'Patient'),
      'participant.actor',
      'a participant that is a patient',
    ),
    origin: originOf(appointment),
  };
  const updated = appointment.meta?.lastUpdated ?? appointment.created;
  const start = () => instantOf(appointment.start, 'start', 'when it starts');
  const at = (what: string) => instantOf(updated, 'meta.lastUpdated', what);
  const practitioner = appointment.participant
    .map((p) => context.idOf(p.actor, 'Practitioner'))
    .find((id) => id !== undefined);
  const data: Record<string, Record<string, unknown>> = {
    [AppointmentScheduled.type]: {
      start: start(),
      end: instantOf(appointment.end ?? appointment.start, 'end', 'when it ends'),
      practitionerId: practitioner,
      serviceType: codingOf(appointment.serviceType?.[0]),
      reason: appointment.description,
    },
    [AppointmentConfirmed.type]: { confirmedAt: at('when the patient arrived') },
    [AppointmentCompleted.type]: { completedAt: at('when the visit ended') },
    [AppointmentCancelled.type]: {
      cancelledBy: 'system',
      reason: codingOf(appointment.cancelationReason)?.display ?? appointment.comment,
      cancelledAt: at('when it was cancelled'),
    },
    [AppointmentNoShow.type]: { start: start(), recordedAt: at('when the no-show was recorded') },
  };
  return [{ definition, data: defined({ ...base, ...data[definition.type] }) }];
}

const money = (value: Money | undefined) =>
  value?.value === undefined ? undefined : { value: value.value, currency: value.currency ?? 'USD' };

/** Claim: a claim submitted to its insurer. */
export function mapClaim(claim: Claim, context: MappingContext): MappedEvent[] {
  const lineTotal = (claim.item ?? []).reduce((sum, item) => sum + (item.net?.value ?? 0), 0);
  return [
    {
      definition: ClaimSubmitted,
      data: defined({
        claimId: need(claim.id, 'id', 'the claim id'),
        patientId: need(context.idOf(claim.patient, 'Patient'), 'patient', 'the patient'),
        payerId: need(context.idOf(claim.insurer, 'Organization'), 'insurer', 'the payer'),
        total: money(claim.total) ?? { value: lineTotal, currency: claim.item?.[0]?.net?.currency ?? 'USD' },
        serviceDate: claim.billablePeriod?.start?.slice(0, 10),
        items: claim.item?.map((item) =>
          defined({ code: codingOf(item.productOrService)?.code ?? 'unknown', amount: money(item.net) }),
        ),
        submittedAt: instantOf(claim.created, 'created', 'when the claim was made'),
        origin: originOf(claim),
      }),
    },
  ];
}

/** ClaimResponse: errors deny the claim, a payment pays it; a queued response makes no event. */
export function mapClaimResponse(response: ClaimResponse, context: MappingContext): MappedEvent[] {
  const base = () => ({
    claimId: need(context.idOf(response.request, 'Claim'), 'request', 'the claim it answers'),
    patientId: need(context.idOf(response.patient, 'Patient'), 'patient', 'the patient'),
    payerId: need(context.idOf(response.insurer, 'Organization'), 'insurer', 'the payer'),
    origin: originOf(response),
  });
  const at = instantOf(response.created, 'created', 'when the payer answered');
  if (response.outcome === 'error' || (response.error?.length ?? 0) > 0) {
    const codes = (response.error ?? []).map((error) => codingOf(error.code)?.code ?? 'unknown');
    return [
      {
        definition: ClaimDenied,
        data: defined({ ...base(), reasonCodes: codes.length ? codes : ['denied'], deniedAt: at }),
      },
    ];
  }
  const paid = money(response.payment?.amount);
  if (paid === undefined) return [];
  const adjustment = money(response.payment?.adjustment);
  return [
    {
      definition: ClaimPaid,
      data: defined({
        ...base(),
        paid,
        adjustments: adjustment
          ? [
              {
                reason: codingOf(response.payment?.adjustmentReason)?.code ?? 'adjustment',
                amount: adjustment,
              },
            ]
          : undefined,
        paidAt: at,
      }),
    },
  ];
}
