import { open, writeFile } from 'node:fs/promises';
import { ArchiveMismatchError } from '../errors.ts';
import type { ArchiveOptions, ArchiveReport, EventStore } from '../event-store.ts';

/** How to archive old events into an NDJSON file. */
export interface ArchiveToFileOptions extends Omit<ArchiveOptions, 'write'> {
  store: EventStore;
  /** The NDJSON file to create; an existing file is refused (an archive is never overwritten). */
  path: string;
}

/** What `archiveToFile` did: the store's report, and what the file holds. */
export interface ArchiveFileReport extends ArchiveReport {
  path: string;
  /** The JSON report written beside the archive: `<path>.report.json`. */
  reportPath: string;
  /** Lines (events) in the file: equal to `exported` and `removed`. */
  lines: number;
  /** Size of the file, in bytes. */
  bytes: number;
}

/**
 * Exports events recorded before `before` to a new NDJSON file and removes them from the hot table,
 * batch by batch: each batch is written and fsynced before the transaction that removes it commits, so
 * an event leaves the table only once it is on disk (a crash may leave a batch both in the file and in
 * the table; the next run exports it again, to its own file). The counts reconcile or the run throws:
 * lines written = exported = removed, and a JSON report beside the file says so.
 */
export async function archiveToFile(options: ArchiveToFileOptions): Promise<ArchiveFileReport> {
  const { store, path, ...archive } = options;
  const file = await open(path, 'wx');
  let lines = 0;
  let bytes = 0;
  let report: ArchiveReport;
  try {
    report = await store.archive({
      ...archive,
      async write(text) {
        const buffer = Buffer.from(text, 'utf8');
        await file.write(buffer);
        await file.datasync();
        bytes += buffer.byteLength;
        for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++;
      },
    });
  } finally {
    await file.close();
  }
  if (lines !== report.exported || report.exported !== report.removed) {
    throw new ArchiveMismatchError(lines, report.removed);
  }
  const reportPath = `${path}.report.json`;
  await writeFile(
    reportPath,
    `${JSON.stringify(
      {
        file: path,
        before: report.before.toISOString(),
        exported: report.exported,
        removed: report.removed,
        lines,
        bytes,
        batches: report.batches,
        firstPosition: report.firstPosition?.toString() ?? null,
        lastPosition: report.lastPosition?.toString() ?? null,
        finishedAt: new Date().toISOString(),
      },
      null,
      2,
    )}\n`,
  );
  return { ...report, path, reportPath, lines, bytes };
}
