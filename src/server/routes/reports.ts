import { z } from 'zod';
import type { ReportScheduler } from '../../analytics/reports/report-scheduler.ts';
import { ResourceNotFoundError } from '../api/errors.ts';
import { type ApiRegistry, defineRoute } from '../api/route.ts';

const runSchema = z.object({
  id: z.int(),
  report: z.string(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  status: z.enum(['running', 'succeeded', 'failed']),
  rows: z.int().nullable().describe('Rows of the result; null when it was not computed.'),
  attempts: z.int().describe('Delivery attempts made.'),
  error: z.string().nullable().describe("The last attempt's error when the run failed."),
});

const nameParam = z.strictObject({ name: z.string().min(1).describe('Report name.') });

/** Registers `GET /v1/reports`, `GET /v1/reports/:name/runs` and `POST /v1/reports/:name/run`. */
export function registerReportRoutes(api: ApiRegistry, scheduler: () => ReportScheduler | undefined): void {
  const named = (name: string): ReportScheduler => {
    const reports = scheduler();
    if (!reports?.list().some((report) => report.name === name)) {
      throw new ResourceNotFoundError('report', name, 'params.name');
    }
    return reports;
  };
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/reports',
      operationId: 'listReports',
      summary: 'Scheduled reports (the catalog module’s `reports` export) with their next run',
      tag: 'analytics',
      answer: z.object({
        items: z.array(
          z.object({
            name: z.string(),
            schedule: z.string(),
            timezone: z.string(),
            kind: z.enum(['query', 'export']),
            destination: z.string().describe('The folder, or the webhook URL.'),
            nextRun: z.string().nullable(),
          }),
        ),
      }),
      handler: async () => ({
        items: (scheduler()?.list() ?? []).map((report) => ({
          name: report.name,
          schedule: report.schedule,
          timezone: report.timezone,
          kind: report.query === undefined ? ('export' as const) : ('query' as const),
          destination:
            'folder' in report.destination ? report.destination.folder : report.destination.webhook,
          nextRun: report.nextRun,
        })),
      }),
    }),
  );
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/reports/:name/runs',
      operationId: 'listReportRuns',
      summary: "A report's recorded runs, newest first (the last 100)",
      tag: 'analytics',
      params: nameParam,
      answer: z.object({ items: z.array(runSchema) }),
      problems: [404],
      handler: async ({ params }) => ({ items: named(params.name).runs(params.name) }),
    }),
  );
  api.add(
    defineRoute({
      method: 'POST',
      url: '/v1/reports/:name/run',
      operationId: 'runReport',
      summary: 'Run a report now, as its schedule would; answers the recorded run once it ended',
      tag: 'analytics',
      params: nameParam,
      answer: runSchema,
      problems: [404],
      handler: async ({ params }) => named(params.name).run(params.name),
    }),
  );
}
