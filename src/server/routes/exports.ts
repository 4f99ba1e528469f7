import { randomUUID } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { z } from 'zod';
import {
  EXPORT_FORMATS,
  type ExportFormat,
  type ExportSelection,
} from '../../analytics/exports/export-selection.ts';
import { exportText, exportToFile } from '../../analytics/exports/write-export.ts';
import type { History } from '../../analytics/history/history.ts';
import type { LazyHistory } from '../../analytics/history/lazy-history.ts';
import { actorOf } from '../api/actor.ts';
import { OperationForbiddenError, ResourceConflictError } from '../api/errors.ts';
import { type ApiRegistry, defineRoute } from '../api/route.ts';
import type { JobRegistry } from '../jobs/job-registry.ts';
import { jobSchema } from './jobs.ts';
import { storeEventFilterFields } from './store.ts';

/** What the export routes use. */
export interface ExportRoutesOptions {
  history: LazyHistory;
  jobs: JobRegistry;
  /** False answers them with 403 (`KEEL_EXPORT_ENABLED`). */
  exportEnabled: boolean;
}

const MEDIA_TYPES: Record<ExportFormat, string> = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  parquet: 'application/vnd.apache.parquet',
};

const formatField = z
  .enum(EXPORT_FORMATS)
  .default('ndjson')
  .describe('`ndjson` (default), `csv` or `parquet`.');
const ROWS_DOC =
  'One row per stored event, in position order, with the columns of the query table `events`: ' +
  '`position,stream_id,version,tenant,recorded_at,id,type,source,subject,time,correlation_id,causation_id,data` ' +
  "(NDJSON: `data` nested; CSV: `data` as JSON text, formula-like text prefixed with `'`; Parquet: DuckDB types, " +
  '`data` as JSON text, zstd).';

/** The export selection from the API's store filter fields. */
function selectionOf(fields: {
  type?: string | undefined;
  tenant?: string | undefined;
  correlationId?: string | undefined;
  streamPrefix?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
}): ExportSelection {
  const { type, ...rest } = fields;
  const selection: ExportSelection = type === undefined ? {} : { types: [type] };
  for (const [key, value] of Object.entries(rest))
    if (value !== undefined) Object.assign(selection, { [key]: value });
  return selection;
}

/** Registers `GET /v1/store/export` (streamed), `POST /v1/exports` (a job writing a file) and `GET /v1/exports`. */
export function registerExportRoutes(api: ApiRegistry, options: ExportRoutesOptions): void {
  const opened = async (): Promise<History> => {
    if (!options.exportEnabled) {
      throw new OperationForbiddenError('exports are turned off on this node', 'KEEL_EXPORT_ENABLED');
    }
    return options.history.get();
  };
  registerStreamedExport(api, opened);
  registerExportJob(api, opened, options.jobs);
  registerExportList(api, options.history);
}

function registerStreamedExport(api: ApiRegistry, opened: () => Promise<History>): void {
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/store/export',
      operationId: 'exportStore',
      summary: 'Stream a selection of stored events as NDJSON, CSV or Parquet',
      description: `${ROWS_DOC} NDJSON and CSV are streamed as DuckDB reads them (a chunk of rows at a time); Parquet is written to a temporary file in the exports folder by DuckDB, row group by row group, then streamed and deleted. Nothing holds the whole selection in memory. 403 when the node forbids exports.`,
      tag: 'analytics',
      query: z.strictObject({ ...storeEventFilterFields, format: formatField }),
      answer: z.string().describe('The rows in the format asked.'),
      answerMediaTypes: ['application/x-ndjson', 'text/csv', 'application/vnd.apache.parquet'],
      streamed: true,
      problems: [403],
      handler: async ({ query, reply }) => {
        const history = await opened();
        const { format, ...fields } = query;
        reply
          .type(MEDIA_TYPES[format])
          .header('content-disposition', `attachment; filename="events.${format}"`);
        if (format !== 'parquet')
          return Readable.from(exportText(history, selectionOf(fields), format)) as never;
        const file = join(history.exportsDir as string, `.stream-${randomUUID()}.parquet`);
        try {
          await exportToFile(history, selectionOf(fields), 'parquet', file);
        } catch (error) {
          await rm(file, { force: true });
          throw error;
        }
        const stream = createReadStream(file);
        stream.on('close', () => void rm(file, { force: true }));
        return stream as never;
      },
    }),
  );
}

const nameField = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, { error: 'letters, digits, `.`, `_`, `-`; 100 at most' })
  .optional()
  .describe('File name without extension; `events-<time>` when absent.');

function registerExportJob(api: ApiRegistry, opened: () => Promise<History>, jobs: JobRegistry): void {
  api.add(
    defineRoute({
      method: 'POST',
      url: '/v1/exports',
      operationId: 'startExport',
      summary: 'Export a selection of stored events to a file in the exports folder, as a job',
      description: `${ROWS_DOC} The file is \`<name>.<format>\` in the node's exports folder, where \`POST /v1/query\` can read it (\`read_parquet('<path>')\`); the job's \`counts.rows\` says how many rows it holds, \`items.file\` its path. 409 when the file exists.`,
      tag: 'analytics',
      body: z.strictObject({ ...storeEventFilterFields, format: formatField, name: nameField }),
      answer: jobSchema,
      status: 202,
      problems: [403, 409],
      handler: async ({ body, request }) => {
        const history = await opened();
        const { format, name, ...fields } = body;
        const base = name ?? `events-${new Date().toISOString().replace(/[:.]/g, '-')}`;
        const file = join(history.exportsDir as string, `${base}.${format}`);
        if (existsSync(file))
          throw new ResourceConflictError(`${base}.${format} exists already`, 'body.name');
        return jobs.start({
          kind: 'store.export',
          params: body,
          actor: actorOf(request),
          run: async (context) => {
            const result = await exportToFile(history, selectionOf(fields), format, file);
            context.count('rows', result.rows);
            context.count('bytes', result.bytes);
            context.count('files', 1, file);
            context.progress(result.rows, result.rows);
          },
        });
      },
    }),
  );
}

function registerExportList(api: ApiRegistry, history: LazyHistory): void {
  api.add(
    defineRoute({
      method: 'GET',
      url: '/v1/exports',
      operationId: 'listExports',
      summary: 'The files in the exports folder',
      tag: 'analytics',
      answer: z.object({
        items: z.array(
          z.object({
            name: z.string(),
            path: z.string().describe("Full path, as a query reads it: `read_parquet('<path>')`."),
            bytes: z.int(),
            modifiedAt: z.iso.datetime(),
          }),
        ),
      }),
      handler: async () => {
        const dir = (await history.get()).exportsDir as string;
        const names = (await readdir(dir)).filter((name) => !name.startsWith('.')).sort();
        const items = await Promise.all(
          names.map(async (name) => {
            const info = await stat(join(dir, name));
            return { name, path: join(dir, name), bytes: info.size, modifiedAt: info.mtime.toISOString() };
          }),
        );
        return { items };
      },
    }),
  );
}
