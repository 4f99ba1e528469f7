import { Cron } from 'croner';
import { z } from 'zod';
import { EXPORT_FORMATS, exportSelectionSchema } from '../exports/export-selection.ts';

/** A cron expression croner accepts (5 or 6 fields, `@daily`, ...), checked when the report is read. */
const cronField = z.string().superRefine((pattern, context) => {
  try {
    new Cron(pattern, { paused: true }).stop();
  } catch (error) {
    context.addIssue({ code: 'custom', message: `not a cron expression: ${(error as Error).message}` });
  }
});

/** One scheduled report, as data: what it computes, when, and where the result goes. */
export const reportSpecSchema = z
  .strictObject({
    /** Unique name; runs are recorded under it. */
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/),
    /** When it runs: a cron expression, evaluated in `timezone`. */
    schedule: cronField,
    /** IANA time zone of the schedule; UTC by default. */
    timezone: z.string().min(1).default('UTC'),
    /** A read-only SELECT whose rows are the result (JSON), or: */
    query: z.string().min(1).optional(),
    /** an export of stored events (NDJSON, CSV or Parquet). */
    export: z
      .strictObject({ format: z.enum(EXPORT_FORMATS), selection: exportSelectionSchema.default({}) })
      .optional(),
    /** A folder the result file is written to, or a URL it is POSTed to. */
    destination: z.union([
      z.strictObject({ folder: z.string().min(1) }),
      z.strictObject({ webhook: z.url({ protocol: /^https?$/ }) }),
    ]),
    /** Attempts at delivering one result (first included) before the run is recorded as failed. */
    attempts: z.int().min(1).max(20).default(5),
    /** First wait between attempts, in milliseconds; doubles each time up to `maxDelayMs`. */
    initialDelayMs: z.int().min(1).default(1_000),
    /** Longest wait between attempts, in milliseconds. */
    maxDelayMs: z.int().min(1).default(60_000),
  })
  .refine((spec) => (spec.query === undefined) !== (spec.export === undefined), {
    message: 'give exactly one of `query` and `export`',
    path: ['query'],
  });

/** A report as `reportSpecSchema` parses it. */
export type ReportSpec = z.output<typeof reportSpecSchema>;
