import { z } from 'zod';
import { healthcareEvent } from '../define.ts';
import { id, instant, money, origin } from './shared.ts';

// Keyed by claim id: a claim's submission, denial, appeal and payment stay in order.
const claimRef = { claimId: id, patientId: id };

/** A claim was sent to a payer. */
export const ClaimSubmitted = healthcareEvent({
  type: 'healthcare.claim.submitted',
  version: 1,
  description: 'A claim was submitted to a payer, with its total and its lines.',
  schema: z.object({
    ...claimRef,
    payerId: id,
    total: money,
    serviceDate: z.iso.date().optional(),
    items: z.array(z.object({ code: z.string().min(1), amount: money.optional() })).optional(),
    submittedAt: instant,
    origin,
  }),
  partitionKey: (data) => data.claimId,
  example: {
    claimId: 'claim-555',
    patientId: 'patient-123',
    payerId: 'payer-acme',
    total: { value: 1250, currency: 'USD' },
    serviceDate: '2024-12-02',
    items: [{ code: '99223', amount: { value: 1250, currency: 'USD' } }],
    submittedAt: '2024-12-06T08:00:00Z',
  },
});

/** The payer denied a claim, wholly or partly. */
export const ClaimDenied = healthcareEvent({
  type: 'healthcare.claim.denied',
  version: 1,
  description: 'The payer denied a claim (CARC reason codes), and by when it may be appealed.',
  schema: z.object({
    ...claimRef,
    payerId: id,
    reasonCodes: z.array(z.string().min(1)).min(1),
    deniedAmount: money.optional(),
    appealDeadline: z.iso.date().optional(),
    deniedAt: instant,
    origin,
  }),
  partitionKey: (data) => data.claimId,
  example: {
    claimId: 'claim-555',
    patientId: 'patient-123',
    payerId: 'payer-acme',
    reasonCodes: ['CO-50'],
    deniedAmount: { value: 1250, currency: 'USD' },
    appealDeadline: '2025-02-04',
    deniedAt: '2024-12-20T08:00:00Z',
  },
});

/** An appeal of a denied claim was filed. */
export const AppealFiled = healthcareEvent({
  type: 'healthcare.claim.appeal-filed',
  version: 1,
  description: 'An appeal of a denied claim was filed with the payer.',
  schema: z.object({ ...claimRef, appealId: id, reason: z.string().min(1), filedAt: instant }),
  partitionKey: (data) => data.claimId,
  example: {
    claimId: 'claim-555',
    patientId: 'patient-123',
    appealId: 'appeal-9',
    reason: 'Medical necessity documented in the discharge summary',
    filedAt: '2024-12-23T10:00:00Z',
  },
});

/** The payer paid a claim. */
export const ClaimPaid = healthcareEvent({
  type: 'healthcare.claim.paid',
  version: 1,
  description: 'The payer paid a claim, and the adjustments it made.',
  schema: z.object({
    ...claimRef,
    payerId: id,
    paid: money,
    adjustments: z.array(z.object({ reason: z.string().min(1), amount: money })).optional(),
    paidAt: instant,
    origin,
  }),
  partitionKey: (data) => data.claimId,
  example: {
    claimId: 'claim-555',
    patientId: 'patient-123',
    payerId: 'payer-acme',
    paid: { value: 1100, currency: 'USD' },
    adjustments: [{ reason: 'CO-45', amount: { value: 150, currency: 'USD' } }],
    paidAt: '2025-01-15T08:00:00Z',
  },
});

/** Every revenue cycle event type, in a claim's order. */
export const revenueCycleEvents = [ClaimSubmitted, ClaimDenied, AppealFiled, ClaimPaid] as const;
