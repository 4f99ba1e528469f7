import { z } from 'zod';
import type { AuditLog } from '../../security/audit/audit-log.ts';
import type { Transport } from '../../transport/transport.ts';
import { type ApiRegistry, defineRoute } from '../api/route.ts';
import { verifyAuditTopic } from '../security/audit-topic.ts';

const recordSchema = z.object({
  seq: z.int().describe('Position in the chain, from 1.'),
  hash: z.string().describe('SHA-256 of `prevHash`, a newline and the event text.'),
  prevHash: z.string(),
  event: z
    .record(z.string(), z.unknown())
    .describe('The audit CloudEvent (`keel.audit.read` or `keel.audit.action`).'),
});

const chainSchema = {
  ok: z.boolean(),
  records: z.int().describe('Records checked before the first bad one (all of them when ok).'),
  seq: z.int().optional().describe('The first bad record.'),
  problem: z.string().optional(),
};

const verificationSchema = z.object({
  ...chainSchema,
  topic: z
    .object({
      ...chainSchema,
      behind: z.int().describe('Records of the trail not yet forwarded to the topic.'),
    })
    .optional()
    .describe('The same chain as the `keel.audit` topic holds it (when the node forwards to one).'),
});

const ISO_TIME = z.iso
  .datetime({ offset: false })
  .describe('ISO 8601 UTC time, e.g. `2026-12-03T20:00:00Z`.');

const auditQuery = z.strictObject({
  order: z
    .enum(['asc', 'desc'])
    .default('asc')
    .describe('`asc`: oldest first, paging with `after`; `desc`: newest first, paging with `before`.'),
  after: z.coerce.number().int().min(0).default(0).describe('Records after this `seq`.'),
  before: z.coerce.number().int().min(1).optional().describe('Records before this `seq`.'),
  kind: z.enum(['read', 'action']).optional().describe('Reads of event data or administrative actions.'),
  subject: z
    .string()
    .min(1)
    .max(300)
    .optional()
    .describe('Exactly this identity (`key:<prefix>`, `oidc:<sub>`).'),
  operation: z.string().min(1).max(300).optional().describe('Operations containing this text.'),
  outcome: z.enum(['allowed', 'refused']).optional(),
  from: ISO_TIME.optional().describe('Records at or after this time (ISO 8601 UTC).'),
  to: ISO_TIME.optional().describe('Records before this time (ISO 8601 UTC).'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/**
 * Registers `GET /v1/audit` (filtered, either order) and `POST /v1/audit/verify` (the trail, and the
 * topic it is forwarded to, when given).
 */
export function registerAuditRoutes(
  api: ApiRegistry,
  audit: AuditLog,
  forwarded?: { transport: Transport; topic: string },
): void {
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/audit',
      operationId: 'listAudit',
      summary: 'Audit records matching filters, oldest or newest first',
      tag: 'security',
      query: auditQuery,
      answer: z.object({
        items: z.array(recordSchema),
        next: z
          .int()
          .nullable()
          .describe('`after` (asc) or `before` (desc) of the next page; null at the end.'),
      }),
      handler: async ({ query }) => {
        const records = await audit.query({
          order: query.order,
          ...(query.order === 'asc' ? { afterSeq: query.after } : {}),
          ...(query.before === undefined ? {} : { beforeSeq: query.before }),
          ...(query.kind ? { kind: query.kind } : {}),
          ...(query.subject ? { subject: query.subject } : {}),
          ...(query.operation ? { operation: query.operation } : {}),
          ...(query.outcome ? { outcome: query.outcome } : {}),
          ...(query.from ? { from: new Date(query.from).toISOString() } : {}),
          ...(query.to ? { to: new Date(query.to).toISOString() } : {}),
          limit: query.limit,
        });
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
      handler: async () => {
        const table = await audit.verify();
        if (forwarded === undefined) return table;
        const topic = await verifyAuditTopic(forwarded.transport, forwarded.topic, table.records);
        return { ...table, topic };
      },
    }),
  );
}
