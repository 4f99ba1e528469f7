import { z } from 'zod';
import type { AuditLog } from '../../security/audit/audit-log.ts';
import { type ApiRegistry, defineRoute } from '../api/route.ts';

const recordSchema = z.object({
  seq: z.int().describe('Position in the chain, from 1.'),
  hash: z.string().describe('SHA-256 of `prevHash`, a newline and the event text.'),
  prevHash: z.string(),
  event: z
    .record(z.string(), z.unknown())
    .describe('The audit CloudEvent (`keel.audit.read` or `keel.audit.action`).'),
});

const verificationSchema = z.object({
  ok: z.boolean(),
  records: z.int().describe('Records checked before the first bad one (all of them when ok).'),
  seq: z.int().optional().describe('The first bad record.'),
  problem: z.string().optional(),
});

/** Registers `GET /v1/audit` and `POST /v1/audit/verify`. */
export function registerAuditRoutes(api: ApiRegistry, audit: AuditLog): void {
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/audit',
      operationId: 'listAudit',
      summary: 'Audit records after a position in the chain, oldest first',
      tag: 'security',
      query: z.strictObject({
        after: z.coerce.number().int().min(0).default(0).describe('Records after this `seq`.'),
        limit: z.coerce.number().int().min(1).max(1000).default(100),
      }),
      answer: z.object({ items: z.array(recordSchema), next: z.int().nullable() }),
      handler: async ({ query }) => {
        const records = await audit.list(query.after, query.limit);
        return {
          items: records.map((record) => ({
            ...record,
            event: JSON.parse(record.event) as Record<string, unknown>,
          })),
          next: records.length === query.limit ? (records[records.length - 1]?.seq ?? null) : null,
        };
      },
    }),
  );
  api.add(
    defineRoute({
      method: 'POST',
      url: '/v1/audit/verify',
      operationId: 'verifyAudit',
      summary: 'Walk the whole audit chain: every hash, every link, no gap',
      tag: 'security',
      answer: verificationSchema,
      handler: async () => audit.verify(),
    }),
  );
}
