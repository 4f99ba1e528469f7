import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type {
  DeadLetterEntry,
  DeadLetterFilter,
  DeadLetterQueue,
} from '../../bus/dead-letter/dead-letter-queue.ts';
import type { Transport } from '../../transport/transport.ts';
import { actorOf } from '../api/actor.ts';
import { ResourceConflictError, ResourceNotFoundError } from '../api/errors.ts';
import { cursorParam, decodeCursor, encodeCursor, limitParam, pageSchema } from '../api/pagination.ts';
import { type ApiRegistry, defineRoute } from '../api/route.ts';
import {
  deadLetterDetailSchema,
  deadLetterDetailView,
  deadLetterSchema,
  deadLetterView,
  failureGroupSchema,
  summarize,
} from '../dead-letters/dead-letter-views.ts';
import { entryActions } from '../dead-letters/entry-actions.ts';
import { retryDeadLetters } from '../dead-letters/retry-job.ts';
import type { JobRegistry } from '../jobs/job-registry.ts';
import { seesTenant, tenantsOf } from '../security/request-scope.ts';
import { tenantOfRecord } from '../topics/message-filter.ts';
import { jobSchema } from './jobs.ts';

/** What the dead-letter routes use. */
export interface DeadLetterRoutesOptions {
  transport: Transport;
  jobs: JobRegistry;
  /** The DLQ of a group (opened per request: its state lives in the DLQ topic). */
  deadLetters(group: string): DeadLetterQueue;
}

const groupParam = z.strictObject({ group: z.string().min(1).describe('Consumer group id.') });
const entryParam = groupParam.extend({
  id: z.string().regex(/^\d+:\d+$/, { error: 'expected an entry id `<partition>:<offset>`' }),
});

/** The filter shared by the DLQ list, summary and bulk retry. */
const filterFields = {
  eventType: z.string().min(1).optional().describe('Event type, exactly.'),
  errorType: z.string().min(1).optional().describe('Error class name, e.g. `ValidationError`.'),
  handler: z.string().min(1).optional().describe('Handler name.'),
  sourceTopic: z.string().min(1).optional().describe('Topic the event was consumed from.'),
  since: z.iso.datetime({ offset: true }).optional().describe('Latest failure at or after this time.'),
  until: z.iso.datetime({ offset: true }).optional().describe('Latest failure before this time.'),
};
const statusField = z.enum(['pending', 'retried', 'discarded']);
const afterId = z.strictObject({ after: z.string() });

function filterOf(
  query: { [K in keyof typeof filterFields]?: string | undefined } & { status?: DeadLetterFilter['status'] },
) {
  const filter: DeadLetterFilter = {};
  if (query.eventType !== undefined) filter.eventType = query.eventType;
  if (query.errorType !== undefined) filter.errorType = query.errorType;
  if (query.handler !== undefined) filter.handler = query.handler;
  if (query.sourceTopic !== undefined) filter.sourceTopic = query.sourceTopic;
  if (query.status !== undefined) filter.status = query.status;
  if (query.since !== undefined) filter.from = Date.parse(query.since);
  if (query.until !== undefined) filter.to = Date.parse(query.until);
  return filter;
}

/** True when the request may see the entry: its event's tenant is one of the identity's. */
function seesEntry(request: FastifyRequest, entry: DeadLetterEntry): boolean {
  return seesTenant(request, entry.event?.tenantid ?? tenantOfRecord(entry.record));
}

/**
 * Registers the dead-letter routes of each group: list, summary, inspect, retry, discard, bulk retry. A
 * tenant-scoped identity sees only its tenants' entries: lists and summaries leave the others out, and one
 * of them inspected is missing (404).
 */
export function registerDeadLetterRoutes(api: ApiRegistry, options: DeadLetterRoutesOptions): void {
  registerReads(api, options);
  registerActions(api, options);
}

function registerReads(api: ApiRegistry, options: DeadLetterRoutesOptions): void {
  const { transport, deadLetters } = options;
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/groups/:group/dead-letters',
      operationId: 'listDeadLetters',
      summary: "List a group's dead letters, filtered, in DLQ order",
      tag: 'dead-letters',
      params: groupParam,
      query: z.strictObject({
        ...filterFields,
        status: statusField.optional(),
        limit: limitParam(),
        cursor: cursorParam,
      }),
      answer: pageSchema(deadLetterSchema),
      handler: async ({ params, query, request }) => {
        const after = query.cursor === undefined ? undefined : decodeCursor(afterId, query.cursor).after;
        // A tenant-scoped identity's page is filtered after the read: every entry after the cursor is read.
        const scoped = tenantsOf(request) !== undefined;
        const entries = (
          await deadLetters(params.group).list({
            ...filterOf(query),
            limit: scoped ? Number.MAX_SAFE_INTEGER : query.limit + 1,
            ...(after === undefined ? {} : { cursor: after }),
          })
        )
          .filter((entry) => !scoped || seesEntry(request, entry))
          .slice(0, query.limit + 1);
        const page = entries.slice(0, query.limit);
        const last = page.at(-1);
        const next =
          entries.length > query.limit && last !== undefined ? encodeCursor({ after: last.id }) : null;
        return { items: page.map(deadLetterView), next };
      },
    }),
  );
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/groups/:group/dead-letters/summary',
      operationId: 'summarizeDeadLetters',
      summary: "A group's dead letters grouped by error type and handler: count, first/last seen, a sample",
      tag: 'dead-letters',
      params: groupParam,
      query: z.strictObject({ ...filterFields, status: statusField.default('pending') }),
      answer: z.object({ total: z.int(), groups: z.array(failureGroupSchema) }),
      handler: async ({ params, query, request }) => {
        const entries = (
          await deadLetters(params.group).list({ ...filterOf(query), limit: Number.MAX_SAFE_INTEGER })
        ).filter((entry) => seesEntry(request, entry));
        return { total: entries.length, groups: summarize(entries) };
      },
    }),
  );
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/groups/:group/dead-letters/:id',
      operationId: 'getDeadLetter',
      summary: 'One dead letter: the failure with its stack, the message, and every action taken on it',
      tag: 'dead-letters',
      params: entryParam,
      answer: deadLetterDetailSchema,
      problems: [404],
      handler: async ({ params, request }) => {
        const dlq = deadLetters(params.group);
        const entry = await dlq.get(params.id);
        if (entry === undefined || !seesEntry(request, entry))
          throw new ResourceNotFoundError('dead letter', params.id, 'params.id');
        return deadLetterDetailView(entry, await entryActions(transport, dlq.topic, entry.id));
      },
    }),
  );
}

function registerActions(api: ApiRegistry, options: DeadLetterRoutesOptions): void {
  const { deadLetters, jobs } = options;
  const actionAnswer = z.object({ ids: z.array(z.string()), actor: z.string().nullable() });
  api.add(
    defineRoute({
      method: 'POST',
      url: '/v1/groups/:group/dead-letters/:id/retry',
      operationId: 'retryDeadLetter',
      summary: 'Send one dead letter back to its source topic, unchanged',
      tag: 'dead-letters',
      params: entryParam,
      answer: actionAnswer,
      problems: [404, 409],
      handler: async ({ params, request }) => {
        const actor = actorOf(request);
        const ids = await deadLetters(params.group).retry(
          params.id,
          actor === undefined ? {} : { by: actor },
        );
        return { ids, actor: actor ?? null };
      },
    }),
  );
  api.add(
    defineRoute({
      method: 'POST',
      url: '/v1/groups/:group/dead-letters/:id/discard',
      operationId: 'discardDeadLetter',
      summary: 'Discard one dead letter, with a reason',
      tag: 'dead-letters',
      params: entryParam,
      body: z.strictObject({ reason: z.string().trim().min(1).max(500).describe('Why it is discarded.') }),
      answer: actionAnswer,
      problems: [404, 409],
      handler: async ({ params, body, request }) => {
        const actor = actorOf(request);
        const ids = await deadLetters(params.group).discard(
          params.id,
          body.reason,
          actor === undefined ? {} : { by: actor },
        );
        return { ids, actor: actor ?? null };
      },
    }),
  );
  api.add(
    defineRoute({
      method: 'POST',
      url: '/v1/groups/:group/dead-letters/retry',
      operationId: 'retryDeadLetters',
      summary: 'Retry every pending dead letter matching a filter, as a job with progress',
      tag: 'dead-letters',
      params: groupParam,
      description:
        'With `expectedCount` (the count the caller saw, e.g. from the summary), a selection that changed ' +
        'since is refused with 409 and nothing is retried.',
      body: z.strictObject({
        ...filterFields,
        expectedCount: z.int().min(0).optional().describe('Pending entries the caller expects to match.'),
      }),
      answer: jobSchema,
      status: 202,
      problems: [409],
      handler: async ({ params, body, request }) => {
        const actor = actorOf(request);
        const dlq = deadLetters(params.group);
        const { expectedCount, ...selection } = body;
        const filter = filterOf(selection);
        if (expectedCount !== undefined) {
          const now = (await dlq.list({ ...filter, status: 'pending', limit: Number.MAX_SAFE_INTEGER }))
            .length;
          if (now !== expectedCount) {
            throw new ResourceConflictError(
              `the selection changed: ${now} pending dead letters match, not ${expectedCount}; nothing was retried`,
              'body.expectedCount',
            );
          }
        }
        return jobs.start({
          kind: 'dead-letters.retry',
          params: { group: params.group, ...body },
          actor,
          run: (context) => retryDeadLetters(dlq, filter, actor, context),
        });
      },
    }),
  );
}
