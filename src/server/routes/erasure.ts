import { z } from 'zod';
import type { FieldEncryption } from '../../security/encryption/field-encryption.ts';
import { actorOf } from '../api/actor.ts';
import { ResourceConflictError } from '../api/errors.ts';
import { type ApiRegistry, defineRoute } from '../api/route.ts';

const erasureBody = z.strictObject({
  subject: z.string().min(1).max(1000).describe('Whose data keys to destroy, e.g. `patient-123`.'),
  reason: z
    .string()
    .max(500)
    .optional()
    .describe('Why, for the record (e.g. a ticket of the erasure request).'),
});

const erasureAnswer = z.object({
  subject: z.string(),
  keysDestroyed: z
    .int()
    .describe('Live data keys destroyed; 0 when the subject had none (e.g. erased before).'),
  actor: z.string().nullable(),
});

/**
 * Registers `POST /v1/erasures`: crypto-shredding of one subject. Its events stay in the log and the store;
 * their sensitive fields read `[redacted]` from then on, on every node sharing the key store.
 */
export function registerErasureRoute(api: ApiRegistry, encryption: FieldEncryption | undefined): void {
  api.add(
    defineRoute({
      method: 'POST',
      url: '/v1/erasures',
      operationId: 'eraseSubject',
      summary:
        "Erase a subject's personal data: destroy its data keys so its sensitive fields are unreadable",
      description:
        'Every event stays in the log and the store and replays still run; the sensitive fields of the ' +
        "subject's events read `[redacted]` from now on. Idempotent. 409 when field encryption is off.",
      tag: 'security',
      body: erasureBody,
      answer: erasureAnswer,
      problems: [409],
      handler: async ({ body, request }) => {
        if (encryption === undefined) {
          throw new ResourceConflictError(
            'field encryption is not configured on this node (KEEL_PHI_MASTER_KEY or KEEL_PHI_MASTER_KEY_FILE)',
          );
        }
        const report = await encryption.erase(body.subject);
        const actor = actorOf(request) ?? null;
        request.log.info(
          { keysDestroyed: report.keysDestroyed, actor, reason: body.reason },
          'subject erased (data keys destroyed)',
        );
        return { ...report, actor };
      },
    }),
  );
}
