import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Cron } from 'croner';
import { OptionsError, parseOptions } from '../../errors/options.ts';
import { exportToFile } from '../exports/write-export.ts';
import type { History } from '../history/history.ts';
import { deliverResult, type ReportResult } from './deliver-result.ts';
import type { ReportRun, ReportRuns } from './report-runs.ts';
import { type ReportSpec, reportSpecSchema } from './report-spec.ts';

const MEDIA: Record<string, string> = {
  json: 'application/json',
  ndjson: 'application/x-ndjson',
  csv: 'text/csv',
  parquet: 'application/vnd.apache.parquet',
};

/** Reports run on their cron schedules; each run recorded. */
export interface ReportScheduler {
  /** The reports, as parsed, with each one's next run time. */
  list(): Array<ReportSpec & { nextRun: string | null }>;
  /** Runs a report now (as its schedule would); resolves with the recorded run. */
  run(name: string): Promise<ReportRun>;
  /** Recorded runs, newest first. */
  runs(report?: string): ReportRun[];
  /** Stops the schedules and waits for runs under way. */
  stop(): Promise<void>;
}

/**
 * Schedules `reports` (checked first: a report that does not parse, or a repeated name, throws OptionsError
 * naming `reports[i].<field>` and nothing is scheduled). A run computes its result into the history's exports
 * folder, delivers it with retries, and is recorded with its start, end, rows, attempts, status and error: a
 * destination that keeps failing is recorded as failed, never dropped.
 */
export function createReportScheduler(options: {
  reports: unknown[];
  history: History;
  runs: ReportRuns;
}): ReportScheduler {
  const specs = parseOptions(reportSpecSchema.array(), options.reports, 'reports');
  const names = new Set<string>();
  for (const spec of specs) {
    if (names.has(spec.name)) {
      throw new OptionsError('reports', [`reports.name: "${spec.name}" is used twice`]);
    }
    names.add(spec.name);
  }
  const { history, runs } = options;
  const pending = new Set<Promise<ReportRun>>();
  const runOne = (spec: ReportSpec): Promise<ReportRun> => {
    const running = runReport(spec, history, runs).finally(() => pending.delete(running));
    pending.add(running);
    return running;
  };
  const jobs = specs.map(
    (spec) => new Cron(spec.schedule, { timezone: spec.timezone, protect: true }, () => void runOne(spec)),
  );
  return {
    list: () => specs.map((spec, i) => ({ ...spec, nextRun: jobs[i]?.nextRun()?.toISOString() ?? null })),
    run(name) {
      const spec = specs.find((candidate) => candidate.name === name);
      if (spec === undefined) throw new Error(`no report named "${name}"`);
      return runOne(spec);
    },
    runs: (report) => runs.list(report),
    async stop() {
      for (const job of jobs) job.stop();
      await Promise.allSettled([...pending]);
    },
  };
}

async function runReport(spec: ReportSpec, history: History, runs: ReportRuns): Promise<ReportRun> {
  const id = runs.start(spec.name);
  let attempts = 0;
  let result: ReportResult | undefined;
  try {
    result = await computeResult(spec, history, id);
    await deliverResult(spec, result, () => attempts++);
    runs.finish(id, { status: 'succeeded', rows: result.rows, attempts });
  } catch (error) {
    runs.finish(id, {
      status: 'failed',
      rows: result?.rows ?? null,
      attempts,
      error: error instanceof Error ? error.message : String(error),
    });
  } finally {
    if (result) await rm(result.file, { force: true });
  }
  return runs.list(spec.name).find((run) => run.id === id) as ReportRun;
}

async function computeResult(spec: ReportSpec, history: History, id: number): Promise<ReportResult> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const base = join(history.exportsDir as string, `.report-${spec.name}-${stamp}-${id}`);
  if (spec.export) {
    const file = `${base}.${spec.export.format}`;
    const { rows } = await exportToFile(history, spec.export.selection, spec.export.format, file);
    const name = `${spec.name}-${stamp}.${spec.export.format}`;
    return { file, name, rows, mediaType: MEDIA[spec.export.format] as string };
  }
  const answer = await history.query(spec.query as string, { maxRows: 10_000 });
  const file = `${base}.json`;
  await writeFile(file, JSON.stringify({ report: spec.name, run: id, ...answer }));
  return {
    file,
    name: `${spec.name}-${stamp}.json`,
    rows: answer.rows.length,
    mediaType: MEDIA.json as string,
  };
}
