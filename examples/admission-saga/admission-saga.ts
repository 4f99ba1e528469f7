import type { Logger } from 'pino';
import { z } from 'zod';
import type { Publisher } from '../../src/bus/publisher-port.ts';
import { createRouter } from '../../src/bus/router.ts';
import type { Router } from '../../src/bus/router-port.ts';
import type { Transport } from '../../src/transport/transport.ts';
import { command, defineWorkflow, type StepContext, trigger } from '../../src/workflows/define-workflow.ts';
import { NonRetryableError } from '../../src/workflows/errors.ts';
import {
  AdmissionRequested,
  AssignBed,
  admissionCatalog,
  BedAssigned,
  BedAssignmentFailed,
} from './events.ts';
import { type Hospital, NoBedError } from './hospital.ts';

const admissionInput = z.object({ patientId: z.string().min(1), wardId: z.string().min(1) });

/** Input of the admission saga. */
export type AdmissionInput = z.output<typeof admissionInput>;

/**
 * The patient admission saga of the implementation guide: check bed availability (holding a bed) →
 * create the admission → assign the bed (a command to the bed management service, answered on the bus)
 * → notify the ward. When a step fails for good, the completed steps are undone in reverse order: a
 * failed bed assignment cancels the admission, then releases the bed hold. An admission request on the
 * bus starts one saga per patient (the trigger's key), however often the request is delivered.
 */
export function admissionSaga(hospital: Hospital) {
  return defineWorkflow({
    id: 'patient-admission',
    version: 1,
    description: 'Admit a patient: hold a bed, create the admission, assign the bed, notify the ward.',
    input: admissionInput,
    // The ward must know within 15 minutes; a breach is published on keel.workflows.alerts.
    slaMs: 15 * 60_000,
    triggers: [
      trigger(AdmissionRequested, {
        key: (event) => `admission-${event.data!.patientId}`,
        input: (event) => event.data!,
      }),
    ],
    steps: [
      {
        name: 'check-bed-availability',
        timeoutMs: 30_000,
        action: (ctx) => {
          try {
            return hospital.holdBed(ctx.idempotencyKey, ctx.input.wardId, ctx.input.patientId);
          } catch (error) {
            // No bed now is an answer, not a glitch: retrying would not free one.
            if (error instanceof NoBedError) throw new NonRetryableError(error.message, error.code);
            throw error;
          }
        },
        compensate: (ctx) =>
          hospital.releaseHold(ctx.idempotencyKey, (ctx.output as { bedId: string }).bedId),
      },
      {
        name: 'create-admission',
        action: (ctx) => hospital.createAdmission(ctx.idempotencyKey, ctx.input.patientId, ctx.input.wardId),
        compensate: (ctx) =>
          hospital.cancelAdmission(ctx.idempotencyKey, (ctx.output as { admissionId: string }).admissionId),
      },
      {
        name: 'assign-bed',
        timeoutMs: 30_000,
        retry: { maxAttempts: 1 },
        command: command(
          AssignBed,
          (ctx: StepContext<AdmissionInput>) => ({
            bedId: (ctx.outputs['check-bed-availability'] as { bedId: string }).bedId,
            patientId: ctx.input.patientId,
            admissionId: (ctx.outputs['create-admission'] as { admissionId: string }).admissionId,
          }),
          { replies: [BedAssigned], failures: [BedAssignmentFailed] },
        ),
        compensate: (ctx) =>
          hospital.unassignBed(ctx.idempotencyKey, (ctx.output as { bedId: string }).bedId),
      },
      {
        name: 'notify-ward',
        action: (ctx) => {
          const { bedId } = ctx.outputs['assign-bed'] as { bedId: string };
          hospital.notifyWard(
            ctx.idempotencyKey,
            ctx.input.wardId,
            `${ctx.input.patientId} arrives in ${bedId}`,
          );
          return { notified: ctx.input.wardId };
        },
      },
    ],
  });
}

/**
 * The bed management service: assigns beds on AssignBed commands and replies on the bus (the reply,
 * published inside the handler, carries the command's id as its causation: the saga's correlation).
 */
export function startBedService(options: {
  transport: Transport;
  publisher: Publisher;
  hospital: Hospital;
  logger?: Logger;
}): Promise<Router> {
  const { transport, publisher, hospital } = options;
  const router = createRouter({
    transport,
    catalog: admissionCatalog,
    group: 'bed-management',
    shutdownSignals: [],
    commitIntervalMs: 20,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  router.on(AssignBed, async (event) => {
    const { bedId, patientId } = event.data!;
    try {
      // The command's id is its idempotency key: a redelivered command assigns nothing twice.
      hospital.assignBed(event.id, bedId, patientId);
      await publisher.publish(BedAssigned, { bedId, patientId });
    } catch (error) {
      await publisher.publish(BedAssignmentFailed, { bedId, patientId, reason: (error as Error).message });
    }
  });
  return router.start().then(() => router);
}
