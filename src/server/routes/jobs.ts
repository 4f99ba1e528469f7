import { z } from 'zod';
import { actorOf } from '../api/actor.ts';
import { cursorParam, limitParam, pageOfList, pageSchema } from '../api/pagination.ts';
import { type ApiRegistry, defineRoute } from '../api/route.ts';
import type { JobRegistry } from '../jobs/job-registry.ts';
import { seesTenant } from '../security/request-scope.ts';

/** JSON shape of a job. */
export const jobSchema = z
  .object({
    id: z.string(),
    kind: z.string().describe('What the job does, e.g. `dead-letters.retry`.'),
    status: z.enum(['running', 'succeeded', 'failed', 'cancelled']),
    progress: z.object({
      done: z.int().describe('Items handled so far.'),
      total: z.int().nullable().describe('Items in all, or null while unknown.'),
    }),
    startedAt: z.iso.datetime(),
    endedAt: z.iso.datetime().nullable(),
    counts: z.record(z.string(), z.int()).describe('Counts by outcome, e.g. `{ "retried": 12 }`.'),
    error: z.string().nullable().describe('Why the job failed, or null.'),
    params: z.record(z.string(), z.unknown()).describe('What the job was asked to do.'),
    actor: z.string().nullable().describe('Who started it (the `keel-actor` header).'),
    cancelledBy: z.string().nullable(),
    items: z
      .record(z.string(), z.array(z.string()))
      .describe('Items touched, by outcome (e.g. the ids retried).'),
  })
  .describe('Long work running in the node (in memory: jobs do not survive a restart).');

const jobId = z.strictObject({ id: z.string().min(1).describe('Job id.') });

/** Registers `GET /v1/jobs`, `GET /v1/jobs/:id` and `POST /v1/jobs/:id/cancel`. */
export function registerJobRoutes(api: ApiRegistry, jobs: JobRegistry): void {
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/jobs',
      operationId: 'listJobs',
      summary: 'List jobs, newest first',
      tag: 'jobs',
      query: z.strictObject({
        status: z.enum(['running', 'succeeded', 'failed', 'cancelled']).optional(),
        kind: z.string().optional(),
        limit: limitParam(),
        cursor: cursorParam,
      }),
      answer: pageSchema(jobSchema),
      handler: async ({ query, request }) => {
        const all = jobs
          .list((tenant) => seesTenant(request, tenant))
          .filter(
            (job) =>
              (query.status === undefined || job.status === query.status) &&
              (query.kind === undefined || job.kind === query.kind),
          );
        return pageOfList(all, (job) => job.id, { ...query, descending: true });
      },
    }),
  );
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/jobs/:id',
      operationId: 'getJob',
      summary: "A job's status, progress, times, counts and error",
      tag: 'jobs',
      params: jobId,
      answer: jobSchema,
      problems: [404],
      handler: async ({ params, request }) => jobs.get(params.id, (tenant) => seesTenant(request, tenant)),
    }),
  );
  api.add(
    defineRoute({
      method: 'POST',
      url: '/v1/jobs/:id/cancel',
      operationId: 'cancelJob',
      summary: 'Ask a running job to stop (it ends as `cancelled` after its current item)',
      tag: 'jobs',
      params: jobId,
      answer: jobSchema,
      status: 202,
      problems: [404, 409],
      handler: async ({ params, request }) =>
        jobs.cancel(params.id, actorOf(request), (tenant) => seesTenant(request, tenant)),
    }),
  );
}
